"""Admin page for the ente and its Comuni (names and Belfiore codes from the ISTAT list)."""

import pytest

from tests import factories as f
from voucher.extensions import db
from voucher.services.ente import get_ente


@pytest.fixture
def admin_client(client, app):
    f.login(client, f.make_user("admin"))
    return client


def _data(**overrides):
    data = {
        "name": "Società della Salute di Prova",
        "fiscal_code": f.ENTE_CF,
        "belfiore_code": "",
        "address": "Via Roma 1, Firenze",
        "comuni-0-istat_code": "048017",
        "comuni-1-istat_code": "048015",
        "new_istat": "",
    }
    data.update(overrides)
    return data


def test_first_setup_creates_the_ente(admin_client):
    assert get_ente() is None
    html = admin_client.get("/admin/ente").get_data(as_text=True)
    assert "Nessun Comune." in html
    data = {"name": "Comune di Prova", "fiscal_code": f.ENTE_CF, "new_istat": "048017"}
    response = admin_client.post("/admin/ente", data=data)
    assert response.status_code == 302
    ente = get_ente()
    assert ente.name == "Comune di Prova"
    assert [(c.istat_code, c.belfiore_code, c.name) for c in ente.comuni] == [
        ("048017", "D612", "Firenze")
    ]


def test_page_lists_the_comuni_with_official_data(admin_client):
    f.make_ente()
    html = admin_client.get("/admin/ente").get_data(as_text=True)
    assert "Firenze" in html and "D612" in html and "Fiesole" in html
    assert 'value="048017"' in html and "<caption>" in html


def test_save_edits_and_adds_a_comune_by_istat_code(admin_client):
    f.make_ente()
    response = admin_client.post(
        "/admin/ente", data=_data(name="SdS Fiorentina", new_istat="100005")
    )
    assert response.status_code == 302
    ente = get_ente()
    db.session.refresh(ente)
    assert ente.name == "SdS Fiorentina" and ente.address == "Via Roma 1, Firenze"
    assert {(c.istat_code, c.belfiore_code, c.name) for c in ente.comuni} == {
        ("048017", "D612", "Firenze"),
        ("048015", "D575", "Fiesole"),
        ("100005", "G999", "Prato"),
    }


def test_add_button_lists_the_comune_before_saving(admin_client):
    f.make_ente()
    html = admin_client.post(
        "/admin/ente", data=_data(new_istat="100005", add_comune="1")
    ).get_data(as_text=True)
    assert "Prato" in html and 'value="100005"' in html and "Salva" in html
    assert len(get_ente().comuni) == 2  # nothing saved yet


def test_unknown_istat_code_is_refused(admin_client):
    f.make_ente()
    html = admin_client.post(
        "/admin/ente", data=_data(new_istat="999999", add_comune="1")
    ).get_data(as_text=True)
    assert 'id="new_istat-error"' in html and "elenco ufficiale" in html


def test_remove_then_save(admin_client):
    f.make_ente()
    html = admin_client.post("/admin/ente", data=_data(remove_comune="1")).get_data(as_text=True)
    assert "Fiesole" not in html and "Firenze" in html
    data = _data()
    del data["comuni-1-istat_code"]
    response = admin_client.post("/admin/ente", data=data)
    assert response.status_code == 302
    assert [c.name for c in get_ente().comuni] == ["Firenze"]


def test_invalid_fiscal_code_shows_the_service_message_next_to_the_field(admin_client):
    f.make_ente()
    response = admin_client.post("/admin/ente", data=_data(fiscal_code="12345678901"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="fiscal_code-error"' in html and "cifra di controllo" in html
    assert 'role="alert"' in html
    assert get_ente().fiscal_code == f.ENTE_CF
