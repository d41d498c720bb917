"""The caseload pages: filters in the URL (no personal data), a name searched and paged by
POST only, the lists exported as CSV and XLSX (read back), each read audited without names,
the reach of a social worker, and the person's timeline."""

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests import factories as f
from tests.services.test_caseload import make_caseload
from tests.web.social_world import assert_no_fiscal_code_in_urls, urls_in
from voucher.extensions import db
from voucher.models import AuditEvent
from voucher.services import SYSTEM, caseload, reach


@pytest.fixture
def load(app):
    return make_caseload()


@pytest.fixture
def admin(client, load):
    f.login(client, f.make_user("admin"))
    return client


def searched_events() -> list[AuditEvent]:
    return list(
        db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.action == "beneficiary.searched")
            .order_by(AuditEvent.seq)
        ).scalars()
    )


def names_of(*people) -> list[str]:
    return [value for p in people for value in (p.first_name, p.last_name, p.fiscal_code)]


def assert_no_names(event: AuditEvent, *people) -> None:
    text = json.dumps(event.data, ensure_ascii=False).lower()
    for value in names_of(*people):
        assert value.lower() not in text, value


def test_filters_travel_in_the_url_and_each_page_read_is_audited(admin, load):
    html = admin.get("/servizi/beneficiari", query_string={"comune": load.fiesole}).text
    assert load.carlo.last_name in html and load.anna.last_name not in html
    assert 'id="results-title"' not in html and "1 beneficiario" in html
    event = searched_events()[-1]
    assert event.data["ids"] == [load.carlo.id]
    assert event.data["filters"] == {"comune_id": load.fiesole}
    assert event.data["purpose"] == caseload.PEOPLE_LIST
    assert_no_names(event, load.carlo)

    html = admin.get("/servizi/buoni", query_string={"stato": "revoked", "ordina": "saldo"}).text
    assert load.v_dario.code in html and load.v_anna.code not in html
    assert searched_events()[-1].data["ids"] == [load.dario.id]


def test_a_name_is_searched_and_paged_only_by_post(admin, load, monkeypatch):
    monkeypatch.setattr(caseload, "PAGE_SIZE", 1)
    # A GET never searches, whatever its query string says.
    ignored = admin.get("/servizi/beneficiari", query_string={"q": "Bianchi"}).text
    assert 'id="results-title"' not in ignored and "4 beneficiari — pagina 1 di 4" in ignored

    url = "/servizi/beneficiari?ordina=nome"
    html = admin.post(url, data={"q": "i"}).text  # too short: the list, with the message
    assert 'id="results-title"' not in html
    html = admin.post(url, data={"q": "ar"}).text  # Dario Neri and Carlo Verdi
    assert 'id="results-title"' in html and load.dario.last_name in html
    assert load.carlo.last_name not in html  # on the second page
    assert "2 beneficiari — pagina 1 di 2" in html
    for address in urls_in(html):
        assert "q=" not in address and load.dario.last_name not in address, address
    assert re.search(r'formaction="/servizi/beneficiari\?[^"]*pagina=2', html)
    assert '<input type="hidden" name="q" value="ar">' in html
    second = admin.post(f"{url}&pagina=2", data={"q": "ar"}).text
    assert load.carlo.last_name in second and load.dario.last_name not in second
    event = searched_events()[-1]
    assert event.data["purpose"] == "ricerca per nome" and event.data["ids"] == [load.carlo.id]
    assert event.data["filters"] == {"search": "ricerca per nome"}
    # The search runs within the filters of the URL: scheme B leaves Carlo alone.
    within = admin.post(f"/servizi/beneficiari?misura={load.b.id}", data={"q": "ar"}).text
    assert "1 beneficiario" in within and load.carlo.last_name in within
    filters = searched_events()[-1].data["filters"]
    assert filters == {"scheme_id": load.b.id, "search": "ricerca per nome"}


def test_a_wrong_filter_is_explained_and_not_applied(admin, load):
    response = admin.get("/servizi/buoni", query_string={"scade_entro": "0", "misura": "x"})
    assert response.status_code == 422
    assert "Un numero di giorni tra 1 e 366." in response.text
    assert load.v_anna.code in response.text and load.v_carlo.code in response.text
    odd = admin.get("/servizi/beneficiari", query_string={"pagina": "-3", "ordina": "x"})
    assert odd.status_code == 200


def rows_of_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_the_export_holds_the_whole_filtered_list_and_is_one_audited_read(admin, load):
    before = len(searched_events())
    response = admin.post(
        f"/servizi/buoni/esporta?misura={load.a.id}&ordina=nome", data={"formato": "csv"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="buoni-')
    assert response.headers["Cache-Control"] == "no-store"
    header, *rows = rows_of_csv(response.data)
    assert header[:4] == ["Codice del buono", "Cognome", "Nome", "Codice fiscale"]
    assert [(r[0], r[1], r[6], r[8]) for r in rows] == [
        (load.v_anna.code, "Bianchi", "Attivo", "500,00"),
        (load.v_dario.code, "Neri", "Revocato", "500,00"),
    ]
    (event,) = searched_events()[before:]
    assert event.data == {
        "purpose": caseload.EXPORT,
        "list": "buoni",
        "format": "csv",
        "count": 2,
        "filters": {"scheme_id": load.a.id},
    }
    assert_no_names(event, load.anna, load.dario)

    # The people, as XLSX, searched by name (in the body): the file says what the page said.
    response = admin.post(
        "/servizi/beneficiari/esporta", data={"formato": "xlsx", "q": "carlo verdi"}
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["Cognome", "Nome", "Codice fiscale"]
    assert values[1][:3] == ["Verdi", "Carlo", load.carlo.fiscal_code]
    assert values[1][5] == 1 and float(values[1][7]) == 50.0  # one open voucher, 50 € left
    assert len(values) == 2
    event = searched_events()[-1]
    assert (event.data["format"], event.data["count"]) == ("xlsx", 1)
    assert event.data["filters"] == {"search": "ricerca per nome"}
    assert_no_names(event, load.carlo)


def test_a_social_worker_exports_only_their_comuni(app, client, load):
    worker = f.make_user("social_worker")
    reach.set_team(SYSTEM, worker, [load.firenze])
    db.session.commit()
    f.login(client, worker)
    header, *rows = rows_of_csv(
        client.post("/servizi/beneficiari/esporta", data={"formato": "csv"}).data
    )
    assert [r[0] for r in rows] == ["Bianchi", "Neri", "Rossi"]
    header, *rows = rows_of_csv(client.post("/servizi/buoni/esporta", data={"formato": "csv"}).data)
    assert {r[0] for r in rows} == {load.v_anna.code, load.v_dario.code}
    page = client.get("/servizi/beneficiari").text
    assert load.carlo.last_name not in page and load.anna.last_name in page
    assert_no_fiscal_code_in_urls(page)
    bad = client.post("/servizi/buoni/esporta", data={"formato": "pdf"})
    assert bad.status_code == 302 and "/servizi/buoni" in bad.headers["Location"]


def test_the_person_page_shows_the_timeline_with_links(admin, load):
    html = admin.get(f"/servizi/beneficiari/{load.dario.id}").text
    section = html[html.index('id="timeline-title"') :]
    revoked = section.index("Buono revocato")
    issued = section.index("Buono emesso")
    registered = section.index("Registrazione del beneficiario")
    assert revoked < issued < registered  # newest first
    assert f'href="/servizi/buoni/{load.v_dario.code}"' not in section
    assert f'href="/servizi/buoni/{load.v_dario.id}"' in section
    assert f'href="/servizi/beneficiari/{load.dario.id}/isee"' in section
