"""SIUSS on the pages: the admin generates a concluded month's flows, everyone who reads
reports follows INPS's outcomes and downloads the XML (each download recorded)."""

import base64
import functools
from importlib import resources

import pytest
import xmlschema
from sqlalchemy import select

from tests import factories as f
from tests.reports.world import parse
from tests.web.reports_world import MONTH, YEAR, build
from voucher.extensions import db
from voucher.models import AuditEvent, SiussFlow
from voucher.services import clock

NS = {"s": "http://inps.it/Casellario"}


@functools.cache
def schema() -> xmlschema.XMLSchema:
    path = resources.files("voucher") / "data" / "siuss" / "PS_PSA_SINA201812.xsd"
    return xmlschema.XMLSchema(str(path))


@pytest.fixture
def world(app, client):
    w = build(client)
    w.login("admin")
    return w


def _generate(w, month=MONTH):
    return w.client.post("/rendiconti/siuss/genera", data={"month": month})


def _last_event() -> AuditEvent:
    return db.session.execute(
        select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
    ).scalar_one()


def test_generate_list_and_download(world):
    w = world
    response = _generate(w)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/rendiconti/siuss/flussi?month={MONTH}"
    html = w.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "6 inseriti, 0 di cancellazione, 0 invariati" in html
    flows = list(db.session.execute(select(SiussFlow).order_by(SiussFlow.ts_ms)).scalars())
    assert len(flows) == 6
    for flow in flows:
        assert flow.id_flusso in html and flow.voucher.code in html
    assert html.count("In attesa") == 6

    index = w.client.get("/rendiconti/siuss").get_data(as_text=True)
    assert f'href="/rendiconti/siuss/flussi?month={MONTH}"' in index

    xml = w.client.get(f"/rendiconti/siuss/flussi/{flows[0].id}.xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert xml.data == flows[0].xml
    schema().validate(xml.data)
    event = _last_event()
    assert (event.action, event.object_id) == ("report.downloaded", "siuss-flow")
    assert event.data == {"format": "xml", "id_flusso": flows[0].id_flusso, "period": MONTH}

    month = w.client.get(f"/rendiconti/siuss/flusso.xml?month={MONTH}")
    assert month.status_code == 200 and month.mimetype == "application/xml"
    assert "attachment" in month.headers["Content-Disposition"]
    schema().validate(month.data)
    root = parse(month.data)
    assert len(root.findall("s:Beneficiario", NS)) == 2
    assert len(root.findall("s:Beneficiario/s:PrestazioniSociali", NS)) == 6
    event = _last_event()
    assert (event.object_id, event.data["date_from"], event.data["date_to"]) == (
        "siuss",
        f"{YEAR}-03-01",
        f"{YEAR}-03-31",
    )


def test_outcomes_from_inps_are_shown(world):
    w = world
    _generate(w)
    inps = f.api_token(w.client, w.users["auditor"])
    entries = w.client.get("/api/v1/siuss/flussi?since=0", headers=inps).get_json()
    first, second = entries["elenco_flussi"][:2]
    assert base64.b64decode(first["flusso"])
    body = {
        "elenco_esiti": [
            {
                "id_flusso": first["id_flusso"],
                "tipo": "PS_PSA_SINA",
                "ts_flusso": first["ts_flusso"],
                "ts_acquisizione": f"{YEAR + 1}-01-10T08:00:00.000Z",
                "codice_esito": "OK",
                "id_acquisizione_siuss": "22738",
            },
            {
                "id_flusso": second["id_flusso"],
                "tipo": "PS_PSA_SINA",
                "ts_flusso": second["ts_flusso"],
                "ts_acquisizione": f"{YEAR + 1}-01-10T08:00:00.000Z",
                "codice_esito": "RICHIESTA_INVALIDA",
                "descrizione_esito": "Codice prestazione non valido",
            },
        ]
    }
    assert w.client.post("/api/v1/siuss/esiti", json=body, headers=inps).status_code == 204
    w.client.post("/esci")
    w.login("auditor")
    html = w.client.get(f"/rendiconti/siuss/flussi?month={MONTH}").get_data(as_text=True)
    assert "Acquisizione n. 22738" in html and "Codice prestazione non valido" in html
    assert html.count("In attesa") == 4
    index = w.client.get("/rendiconti/siuss").get_data(as_text=True)
    assert "OK: 1" in index and "RICHIESTA_INVALIDA: 1" in index


def test_generating_again_changes_nothing_when_nothing_changed(world):
    _generate(world)
    response = _generate(world)
    html = world.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "0 inseriti, 0 di cancellazione, 6 invariati" in html


def test_an_unfinished_month_is_refused_with_a_message(world):
    response = _generate(world, clock.today().strftime("%Y-%m"))
    assert response.status_code == 409
    assert "non è ancora concluso" in response.get_data(as_text=True)
    assert db.session.execute(select(SiussFlow)).first() is None


@pytest.mark.parametrize("month", ["", "2026-13", "marzo"])
def test_a_bad_month_is_shown_next_to_the_field(world, month):
    response = _generate(world, month)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="month-error"' in html


def test_an_empty_month_has_no_flow_to_download(world):
    response = world.client.get(f"/rendiconti/siuss/flusso.xml?month={YEAR}-06")
    assert response.status_code == 302
    html = world.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "il flusso SIUSS sarebbe vuoto" in html
    assert "Nessun flusso generato per questo mese." in html
