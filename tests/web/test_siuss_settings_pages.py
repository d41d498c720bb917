"""What SIUSS needs, on the pages: the beneficiary's citizenship, the ente's SIUSS code, a
scheme's presa in carico and the services it may offer; the SIUSS pages say what is missing
until the ente has its SIUSS code, and generate nothing."""

import re

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.web.test_admin_schemes import _form as scheme_form
from tests.web.test_social_beneficiaries import registration
from voucher.extensions import db
from voucher.models import Beneficiary, Scheme, SiussFlow
from voucher.services import clock
from voucher.services.ente import get_ente

YEAR_MONTH = f"{clock.today().year - 1}-03"  # a concluded month


def _signed_in(client, role: str):
    f.login(client, f.make_user(role))
    return client


def _options(html: str, select_id: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of each option of a select, in order."""
    block = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S).group(0)
    return [
        (value, label.strip(), "selected" in attrs)
        for attrs, value, label in re.findall(
            r'<option([^>]*?value="([^"]*)"[^>]*)>([^<]*)</option>', block
        )
    ]


def test_citizenship_is_chosen_by_name_with_italy_first(client, app):
    f.make_ente()
    staff = _signed_in(client, "social_worker")
    options = _options(
        staff.get("/servizi/beneficiari/nuovo").get_data(as_text=True), "citizenship"
    )
    assert options[0] == ("IT", "Italia", True)
    names = [label for _value, label, _selected in options[1:]]
    assert names.index("Albania") < names.index("Marocco") < names.index("Zimbabwe")

    code = f.fiscal_code_for(f.unique_birth_date(30), "F", "Hoxha", "Elira")
    # The names agree with the code: a disagreement would ask for a confirmation first.
    details = registration(code, citizenship="AL", first_name="Elira", last_name="Hoxha")
    response = staff.post("/servizi/beneficiari/nuovo", data=details)
    assert response.status_code == 302
    person = db.session.execute(
        select(Beneficiary).where(Beneficiary.fiscal_code == code)
    ).scalar_one()
    assert person.citizenship == "AL"
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"Cittadinanza</dt><dd[^>]*>Albania</dd>", page)

    edit = staff.get(f"/servizi/beneficiari/{person.id}/modifica").get_data(as_text=True)
    assert [v for v, _label, selected in _options(edit, "citizenship") if selected] == ["AL"]


def test_an_unknown_citizenship_is_refused_on_the_form(client, app):
    f.make_ente()
    staff = _signed_in(client, "social_worker")
    code = f.fiscal_code_for(f.unique_birth_date(30), "M", "Rossi", "Luca")
    response = staff.post("/servizi/beneficiari/nuovo", data=registration(code, citizenship="XX"))
    assert response.status_code == 200
    assert 'id="citizenship-error"' in response.get_data(as_text=True)


def test_the_admin_sets_the_siuss_code_on_the_ente_page(client, app):
    f.make_ente()
    admin = _signed_in(client, "admin")
    html = admin.get("/admin/ente").get_data(as_text=True)
    assert f'value="{f.ENTE_SIUSS_CODE}"' in html and "Codice ente SIUSS" in html
    data = {
        "name": "Società della Salute di Prova",
        "fiscal_code": f.ENTE_CF,
        "belfiore_code": "D612",
        "siuss_code": "ATS-0042",
        "comuni-0-istat_code": f.FIRENZE["istat_code"],
        "comuni-1-istat_code": f.FIESOLE["istat_code"],
    }
    assert admin.post("/admin/ente", data=data).status_code == 302
    assert get_ente().siuss_code == "ATS-0042"
    refused = admin.post("/admin/ente", data={**data, "siuss_code": "con spazi"})
    assert 'id="siuss_code-error"' in refused.get_data(as_text=True)


def test_the_scheme_form_offers_no_p1_or_p6_and_sets_presa_in_carico(client, app):
    f.make_ente()
    admin = _signed_in(client, "admin")
    html = admin.get("/admin/misure/nuova").get_data(as_text=True)
    assert 'value="P2"' in html and 'value="P1"' not in html and 'value="P6"' not in html
    assert 'name="presa_in_carico"' in html

    response = admin.post("/admin/misure/nuova", data=scheme_form(presa_in_carico="y"))
    assert response.status_code == 302
    scheme = db.session.execute(select(Scheme).order_by(Scheme.id.desc()).limit(1)).scalar_one()
    assert scheme.presa_in_carico is True
    refused = admin.post(
        "/admin/misure/nuova",
        data=scheme_form(fund_code="FONDO_POVERTA", service_codes=["P1"], isee_max=""),
    )
    assert "non si acquistano con un buono" in refused.get_data(as_text=True)


def test_presa_in_carico_is_declared_on_an_active_scheme(client, app):
    f.make_ente()
    scheme = f.make_scheme()
    admin = _signed_in(client, "admin")
    page = admin.get(f"/admin/misure/{scheme.id}").get_data(as_text=True)
    assert "Dichiara la presa in carico" in page
    url = f"/admin/misure/{scheme.id}/presa-in-carico"
    assert admin.post(url, data={"presa_in_carico": "1"}).status_code == 302
    db.session.refresh(scheme)
    assert scheme.presa_in_carico is True
    assert "Togli la presa in carico" in admin.get(f"/admin/misure/{scheme.id}").get_data(
        as_text=True
    )


@pytest.mark.parametrize(("role", "link"), [("admin", True), ("auditor", False)])
def test_siuss_pages_say_the_code_is_missing(client, app, role, link):
    f.make_ente(siuss_code=None)
    reader = _signed_in(client, role)
    index = reader.get("/rendiconti/siuss").get_data(as_text=True)
    assert "Flussi SIUSS non disponibili" in index and "codice ente SIUSS" in index
    assert ('href="/admin/ente"' in index) is link
    assert "Genera i flussi" not in index
    flows = reader.get(f"/rendiconti/siuss/flussi?month={YEAR_MONTH}").get_data(as_text=True)
    assert 'id="siuss-setup"' in flows and "flusso.xml" not in flows


def test_generating_without_the_code_is_refused(client, app):
    f.make_ente(siuss_code=None)
    admin = _signed_in(client, "admin")
    response = admin.post("/rendiconti/siuss/genera", data={"month": YEAR_MONTH})
    assert response.status_code == 409
    assert "codice ente SIUSS" in response.get_data(as_text=True)
    download = admin.get(f"/rendiconti/siuss/flusso.xml?month={YEAR_MONTH}")
    assert download.status_code == 302
    assert db.session.execute(select(SiussFlow)).first() is None
