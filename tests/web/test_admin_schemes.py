"""Admin pages for schemes: create, edit while draft, activate, close; euro amounts."""

import pytest
from sqlalchemy import select

from tests import factories as f
from voucher.extensions import db
from voucher.models import Scheme
from voucher.web.forms import parse_euro


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1.234,56", 123456),
        ("1234,56", 123456),
        ("1234", 123400),
        ("1.234", 123400),
        ("1.234.567,8", 123456780),
        ("0,05", 5),
        ("12.50", 1250),
        (" 20,00 € ", 2000),
        ("0,1", 10),
    ],
)
def test_parse_euro_is_exact(text, cents):
    assert parse_euro(text) == cents


@pytest.mark.parametrize(
    "text", ["", "abc", "12,345", "1,2,3", "-5", "1.23.4", "12.5.0", "1e5", "9" * 20, "1.2345"]
)
def test_parse_euro_refuses_bad_input(text):
    with pytest.raises(ValueError):
        parse_euro(text)


def _form(**overrides):
    start, end = f.this_year_window()
    data = {
        "name": "Assistenza domiciliare anziani",
        "description": "Ore di assistenza a casa",
        "fund_code": "FSC_OS",
        "year": str(start.year),
        "cup": "",
        "service_codes": ["A1", "A2"],
        "unit": "HOUR",
        "unit_price": "20,00",
        "face_value": "1.234,56",
        "valid_from": start.isoformat(),
        "valid_until": end.isoformat(),
        "budget": "100.000,00",
        "eligible_categories": ["elderly_self_sufficient", "elderly_dependent"],
        "min_age": "65",
        "max_age": "",
        "isee_max": "30.000,00",
        "max_active_per_beneficiary": "1",
        "max_redemption": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin_client(client, app):
    f.make_ente()
    f.login(client, f.make_user("admin"))
    return client


def _schemes():
    return db.session.execute(select(Scheme).order_by(Scheme.id)).scalars().all()


def test_create_scheme_converts_euro_to_exact_cents(admin_client):
    data = _form(
        **{
            "copay_bands-0-isee_max": "10.000,00",
            "copay_bands-0-coverage_percent": "100",
            "copay_bands-1-isee_max": "20.000,50",
            "copay_bands-1-coverage_percent": "70",
        }
    )
    response = admin_client.post("/admin/misure/nuova", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    scheme = _schemes()[-1]
    assert response.headers["Location"] == f"/admin/misure/{scheme.id}"
    assert scheme.status == "draft"
    assert scheme.face_value_cents == 123456
    assert scheme.unit_price_cents == 2000
    assert scheme.budget_cents == 10_000_000
    assert scheme.isee_max_cents == 3_000_000
    assert scheme.max_redemption_cents is None
    assert scheme.service_codes == ["A1", "A2"] and scheme.area == "A"
    assert scheme.eligible_categories == ["elderly_self_sufficient", "elderly_dependent"]
    assert scheme.min_age == 65 and scheme.max_age is None
    assert [(b.isee_max_cents, b.coverage_percent) for b in scheme.copay_bands] == [
        (1_000_000, 100),
        (2_000_050, 70),
    ]
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1.234,56 €" in page and "100.000,00 €" in page and "<progress" in page


def test_bad_amount_is_an_italian_error_next_to_the_field(admin_client):
    before = len(_schemes())
    response = admin_client.post("/admin/misure/nuova", data=_form(face_value="12,3,4"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Importo non valido" in html
    assert 'aria-describedby="face_value-error"' in html and 'value="12,3,4"' in html
    assert len(_schemes()) == before


def test_unit_price_is_required_unless_euro(admin_client):
    before = len(_schemes())
    response = admin_client.post("/admin/misure/nuova", data=_form(unit_price=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="unit_price-error"' in html and "prezzo unitario" in html
    assert len(_schemes()) == before
    response = admin_client.post("/admin/misure/nuova", data=_form(unit="EUR", unit_price=""))
    assert response.status_code == 302
    assert _schemes()[-1].unit_price_cents is None


def test_services_of_two_areas_are_refused(admin_client):
    response = admin_client.post("/admin/misure/nuova", data=_form(service_codes=["A1", "C1"]))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="service_codes-error"' in html and "stessa area" in html


def test_missing_fields_are_marked(admin_client):
    response = admin_client.post("/admin/misure/nuova", data={"name": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="name-error"' in html and 'id="face_value-error"' in html


def test_band_rows_are_added_and_removed_without_javascript(admin_client):
    before = len(_schemes())
    html = admin_client.post("/admin/misure/nuova", data=_form(add_band="1")).get_data(as_text=True)
    assert 'name="copay_bands-0-isee_max"' in html
    assert 'name="copay_bands-1-isee_max"' not in html
    data = _form(
        **{
            "copay_bands-0-isee_max": "10.000",
            "copay_bands-0-coverage_percent": "90",
            "copay_bands-1-isee_max": "20.000",
            "copay_bands-1-coverage_percent": "50",
            "remove_band": "0",
        }
    )
    html = admin_client.post("/admin/misure/nuova", data=data).get_data(as_text=True)
    assert 'name="copay_bands-0-isee_max"' not in html
    assert 'name="copay_bands-1-isee_max"' in html and 'value="20.000"' in html
    assert "Rimuovi fascia 1" in html and "Rimuovi fascia 2" not in html
    assert len(_schemes()) == before


def test_edit_a_draft_then_activate_then_close(admin_client):
    scheme = f.make_scheme(
        status="draft", copay_bands=[{"isee_max_cents": 900_000, "coverage_percent": 80}]
    )
    page = admin_client.get(f"/admin/misure/{scheme.id}/modifica").get_data(as_text=True)
    assert 'value="500,00"' in page  # face value shown the Italian way
    assert 'value="9.000,00"' in page and 'value="80"' in page
    data = _form(
        name="Nuovo nome",
        **{"copay_bands-0-isee_max": "9.000,00", "copay_bands-0-coverage_percent": "75"},
    )
    response = admin_client.post(f"/admin/misure/{scheme.id}/modifica", data=data)
    assert response.status_code == 302
    db.session.refresh(scheme)
    assert scheme.name == "Nuovo nome" and scheme.face_value_cents == 123456
    assert [b.coverage_percent for b in scheme.copay_bands] == [75]

    assert admin_client.post(f"/admin/misure/{scheme.id}/attiva").status_code == 302
    db.session.refresh(scheme)
    assert scheme.status == "active"
    response = admin_client.get(f"/admin/misure/{scheme.id}/modifica")
    assert response.status_code == 302  # only drafts change
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Solo una misura in bozza" in html

    assert admin_client.post(f"/admin/misure/{scheme.id}/chiudi").status_code == 302
    db.session.refresh(scheme)
    assert scheme.status == "closed"
    response = admin_client.post(f"/admin/misure/{scheme.id}/chiudi", follow_redirects=True)
    assert "già chiusa" in response.get_data(as_text=True)


def test_list_shows_budget_committed_redeemed_available(admin_client):
    scheme = f.make_scheme(budget_cents=1_000_000, face_value_cents=50_000)
    person = f.make_beneficiary()
    from voucher.services import SYSTEM, issuance

    issuance.issue_voucher(SYSTEM, scheme, person)
    db.session.commit()
    html = admin_client.get("/admin/misure").get_data(as_text=True)
    assert scheme.name in html
    assert "10.000,00 €" in html and "500,00 €" in html and "9.500,00 €" in html
    assert "<caption>" in html and 'scope="col"' in html
