"""The SIUSS PS flow validates against INPS's schema, carries the right amounts, and is served
to INPS through the WaaS pull API (flussi, esiti)."""

import base64
import functools
from datetime import UTC, date, datetime
from importlib import resources

import pytest
import xmlschema

from tests import factories as f
from tests.reports.world import Ledger, headers_for, issue, make_provider, make_scheme, parse
from voucher.extensions import db
from voucher.models import Service
from voucher.services import clock
from voucher.services.siuss_codes import birthplace_code

YEAR = clock.today().year - 1
NS = {"s": "http://inps.it/Casellario"}


@functools.cache
def schema() -> xmlschema.XMLSchema:
    """INPS's schema, from the copy the application ships."""
    path = resources.files("voucher") / "data" / "siuss" / "PS_PSA_SINA201812.xsd"
    return xmlschema.XMLSchema(str(path))


@pytest.fixture
def world(app, client):
    f.make_ente()
    hours = make_scheme(
        YEAR, "A", copay_bands=[{"isee_max_cents": 2_000_000, "coverage_percent": 80}]
    )
    euros = make_scheme(
        YEAR,
        "B",
        unit="EUR",
        unit_price_cents=None,
        isee_max_cents=4_000_000,
        face_value_cents=90_000,
    )
    poverty = make_scheme(YEAR, "P", fund="FONDO_POVERTA")
    provider = make_provider(YEAR)
    anna = f.make_beneficiary(
        comune=f.FIESOLE, categories=["elderly_dependent"], isee_cents=1_500_000
    )
    born_abroad = f.fiscal_code_for(date(1990, 5, 17), "M", "Bianchi", "Luca", birthplace="Albania")
    luca = f.make_beneficiary(
        fiscal_code=born_abroad,
        first_name="Luca",
        last_name="Bianchi",
        birth_date=date(1990, 5, 17),
        categories=["fragile_parenting"],
        isee_cents=1_000_000,
    )
    ledger = Ledger()
    v1 = issue(hours, anna)
    v2 = issue(euros, luca)
    v3 = issue(poverty, luca)
    ledger.redeem(provider, v1, "A1", date(YEAR, 3, 3), quantity="2.5")  # 5000: 4000 + 1000
    ledger.redeem(provider, v1, "A2", date(YEAR, 3, 9), quantity="1")  # 2000: 1600 + 400
    wrong = ledger.redeem(provider, v2, "B1", date(YEAR, 3, 15), amount=12_345)
    ledger.reverse(wrong)
    ledger.redeem(provider, v2, "B3", date(YEAR, 3, 16), amount=10_000)
    ledger.redeem(provider, v3, "P2", date(YEAR, 4, 2), quantity="3")
    return {
        "client": client,
        "admin": headers_for(client, "admin"),
        "vouchers": (v1, v2, v3),
        "people": (anna, luca),
        "ledger": ledger,
        "provider": provider,
    }


def flow(w, start: str, end: str):
    return w["client"].get(f"/api/v1/reports/siuss?from={start}&to={end}", headers=w["admin"])


def test_flow_validates_and_carries_the_amounts(world):
    w = world
    response = flow(w, f"{YEAR}-01-01", f"{YEAR}-12-31")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    schema().validate(response.data)

    root = parse(response.data)
    ente = root.find("s:IdentificazioneFlusso/s:Ente", NS)
    assert ente.get("CFOperatore") == f.ENTE_CF
    assert ente.get("Codice") == f.ENTE_SIUSS_CODE  # the code INPS assigned
    assert ente.get("Indirizzo") == "D612"  # the Comune of the seat, Firenze
    people = {b.get("CodiceFiscale"): b for b in root.iterfind("s:Beneficiario", NS)}
    anna, luca = w["people"]
    assert set(people) == {anna.fiscal_code, luca.fiscal_code}

    a = people[anna.fiscal_code]
    assert a.find("s:Anagrafica", NS).get("Genere") == "2"
    assert a.find("s:Anagrafica", NS).get("LuogoNascita") == "D612"
    assert a.find("s:Anagrafica", NS).get("CodiceCittadinanza") == "380"
    assert a.find("s:Indirizzo", NS).attrib == {
        "CodiceRegione": "09",
        "CodiceComune": f.FIESOLE["istat_code"],
        "CodiceNazione": "380",
    }
    (pa,) = a.findall("s:PrestazioniSociali", NS)
    assert pa.get("ProtocolloDomanda") == w["vouchers"][0].code
    assert pa.get("CodicePrestazione") == "A2.07"  # A1 (the larger share) wins over A2
    assert (pa.get("ImportoQuotaEnte"), pa.get("ImportoQuotaUtente")) == ("56.00", "14.00")
    assert pa.get("ImportoPrestazione") == "70.00"
    assert pa.get("PresenzaProvaMezzi") == "1"
    assert pa.get("OreServizioMensile") == "3.50"
    assert pa.get("AreaUtenza") == "2"
    assert (pa.get("DataInizioPrestazione"), pa.get("DataFinePrestazione")) == (
        f"{YEAR}-03-03",
        f"{YEAR}-03-09",
    )

    b = people[luca.fiscal_code]
    assert b.find("s:Anagrafica", NS).get("LuogoNascita") == birthplace_code(luca.fiscal_code)
    assert b.find("s:Anagrafica", NS).get("LuogoNascita").startswith("Z")
    prestazioni = {p.get("ProtocolloDomanda"): p for p in b.iterfind("s:PrestazioniSociali", NS)}
    euros = prestazioni[w["vouchers"][1].code]
    assert euros.get("ImportoQuotaEnte") == "100.00"  # the reversed 123.45 is gone
    assert euros.get("ImportoSogliaISEE") == "40000.00"
    assert euros.get("CodicePrestazione") == "A2.11"
    assert euros.get("AreaUtenza") == "1"
    poverty = prestazioni[w["vouchers"][2].code]
    assert poverty.get("ImportoQuotaEnte") == "60.00"
    assert poverty.get("PresenzaProvaMezzi") == "4"


def test_flow_of_a_shorter_period(world):
    w = world
    response = flow(w, f"{YEAR}-04-01", f"{YEAR}-04-30")
    schema().validate(response.data)
    root = parse(response.data)
    (only,) = root.findall("s:Beneficiario/s:PrestazioniSociali", NS)
    assert only.get("ProtocolloDomanda") == w["vouchers"][2].code


def test_service_without_siuss_code_is_other(world):
    w = world
    db.session.get(Service, "P2").siuss_code = None
    db.session.commit()
    response = flow(w, f"{YEAR}-04-01", f"{YEAR}-04-30")
    schema().validate(response.data)
    (only,) = parse(response.data).findall("s:Beneficiario/s:PrestazioniSociali", NS)
    assert only.get("CodicePrestazione") == "Z9.99"
    assert len(only.get("DenominazionePrestazione")) >= 10


def test_empty_period_is_404(world):
    response = flow(world, f"{YEAR}-06-01", f"{YEAR}-06-30")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


# The WaaS pull API ------------------------------------------------------------------------


def generate(w, month: str):
    return w["client"].post("/api/v1/siuss/periods", json={"month": month}, headers=w["admin"])


def pull(w, since=0, limit=None, headers=None):
    query = f"since={since}" + (f"&limit={limit}" if limit is not None else "")
    response = w["client"].get(f"/api/v1/siuss/flussi?{query}", headers=headers or w["admin"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["elenco_flussi"]


def ms(ts: str) -> int:
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


def test_flows_per_voucher_are_collected_and_acknowledged(world):
    w = world
    created = generate(w, f"{YEAR}-03")
    assert created.status_code == 201
    assert created.get_json() == {
        "period": f"{YEAR}-03",
        "inserted": 2,
        "cancelled": 0,
        "unchanged": 0,
        "withheld_pseudonymised": 0,
    }
    assert generate(w, f"{YEAR}-04").get_json()["inserted"] == 1

    flows = pull(w)
    assert len(flows) == 3
    assert [ms(x["ts_flusso"]) for x in flows] == sorted(ms(x["ts_flusso"]) for x in flows)
    today = clock.now().astimezone(clock.ROME).strftime("%Y%m%d")
    for n, entry in enumerate(flows, start=1):
        assert set(entry) == {
            "codice_ente",
            "denominazione_ente",
            "id_flusso",
            "ts_flusso",
            "tipo",
            "flusso",
        }
        assert entry["codice_ente"] == f.ENTE_SIUSS_CODE and entry["tipo"] == "PS_PSA_SINA"
        assert entry["id_flusso"] == f"{f.ENTE_SIUSS_CODE}.PS.{today}.{n:07d}"
        xml = base64.b64decode(entry["flusso"])
        schema().validate(xml)
        root = parse(xml)
        assert len(root.findall("s:Beneficiario", NS)) == 1
        assert len(root.findall("s:Beneficiario/s:PrestazioniSociali", NS)) == 1

    # Paging: `since` is the timestamp of the last flow collected.
    assert pull(w, limit=1) == flows[:1]
    assert pull(w, since=ms(flows[0]["ts_flusso"])) == flows[1:]
    assert pull(w, since=ms(flows[-1]["ts_flusso"])) == []
    assert pull(w, limit=0) == []

    esito = {
        "id_flusso": flows[0]["id_flusso"],
        "tipo": "PS_PSA_SINA",
        "ts_flusso": flows[0]["ts_flusso"],
        "ts_acquisizione": "2026-01-10T08:00:00.000Z",
        "codice_esito": "OK",
        "id_acquisizione_siuss": "22738",
    }
    refused = {
        **esito,
        "id_flusso": flows[1]["id_flusso"],
        "codice_esito": "RICHIESTA_INVALIDA",
        "descrizione_esito": "Codice prestazione non valido",
        "id_acquisizione_siuss": None,
    }
    body = {"elenco_esiti": [esito, refused]}
    for _ in range(2):  # INPS may notify twice: recorded once
        answer = w["client"].post("/api/v1/siuss/esiti", json=body, headers=w["admin"])
        assert answer.status_code == 204
    periods = w["client"].get("/api/v1/siuss/periods", headers=w["admin"]).get_json()
    march = next(p for p in periods if p["period"] == f"{YEAR}-03")
    assert march["flows"] == 2 and march["pending"] == 0
    assert march["outcomes"] == {"OK": 1, "RICHIESTA_INVALIDA": 1}
    listed = (
        w["client"].get(f"/api/v1/siuss/periods/{YEAR}-03/flows", headers=w["admin"]).get_json()
    )
    assert [x["outcome"]["codice_esito"] for x in listed] == ["OK", "RICHIESTA_INVALIDA"]
    assert listed[0]["outcome"]["id_acquisizione_siuss"] == "22738"
    assert listed[1]["outcome"]["descrizione_esito"] == "Codice prestazione non valido"


def test_bad_outcomes_are_refused_whole(world):
    w = world
    generate(w, f"{YEAR}-04")
    (entry,) = pull(w)
    good = {
        "id_flusso": entry["id_flusso"],
        "tipo": "PS_PSA_SINA",
        "ts_flusso": entry["ts_flusso"],
        "ts_acquisizione": "2026-01-10T08:00:00Z",
        "codice_esito": "OK",
    }
    for bad in (
        {**good, "id_flusso": "D575.PS.20200101.9999999"},
        {**good, "codice_esito": "FORSE"},
        {**good, "ts_acquisizione": "ieri"},
        {k: v for k, v in good.items() if k != "codice_esito"},
    ):
        response = w["client"].post(
            "/api/v1/siuss/esiti", json={"elenco_esiti": [good, bad]}, headers=w["admin"]
        )
        assert response.status_code == 422, response.get_data(as_text=True)
    (period,) = w["client"].get("/api/v1/siuss/periods", headers=w["admin"]).get_json()
    assert period["pending"] == 1 and period["outcomes"] == {}


def test_late_entries_cancel_and_replace_a_flow(world):
    w = world
    generate(w, f"{YEAR}-03")
    again = generate(w, f"{YEAR}-03").get_json()
    assert (again["inserted"], again["cancelled"], again["unchanged"]) == (0, 0, 2)

    v1 = w["vouchers"][0]
    w["ledger"].redeem(w["provider"], v1, "A1", date(YEAR, 3, 30), quantity="1")
    update = generate(w, f"{YEAR}-03").get_json()
    assert (update["inserted"], update["cancelled"], update["unchanged"]) == (1, 1, 1)
    flows = pull(w)
    cancel, insert = flows[-2:]
    cancel_xml = parse(base64.b64decode(cancel["flusso"]))
    insert_xml = parse(base64.b64decode(insert["flusso"]))
    schema().validate(base64.b64decode(cancel["flusso"]))
    old = cancel_xml.find("s:Beneficiario/s:PrestazioniSociali", NS)
    new = insert_xml.find("s:Beneficiario/s:PrestazioniSociali", NS)
    assert (old.get("TipoOperazione"), new.get("TipoOperazione")) == ("C", "I")
    assert old.get("ProtocolloDomanda") == new.get("ProtocolloDomanda") == v1.code
    assert (old.get("ImportoQuotaEnte"), new.get("ImportoQuotaEnte")) == ("56.00", "72.00")

    # Everything reversed: the flow is only cancelled.
    (euros_entry,) = [
        e for e in w["ledger"].entries if e.kind == "redemption" and e.service_code == "B3"
    ]
    w["ledger"].reverse(euros_entry)
    last = generate(w, f"{YEAR}-03").get_json()
    assert (last["inserted"], last["cancelled"]) == (0, 1)


def test_flows_of_an_unfinished_month_are_refused(world):
    response = generate(world, clock.today().strftime("%Y-%m"))
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("role", "status"), [("auditor", 200), ("social_worker", 403), ("provider", 403), (None, 401)]
)
def test_who_may_pull_flows(world, role, status):
    w = world
    provider = w["provider"] if role == "provider" else None
    headers = headers_for(w["client"], role, provider) if role else {}
    response = w["client"].get("/api/v1/siuss/flussi?since=0", headers=headers)
    assert response.status_code == status
    if role != "auditor":
        assert generate({**w, "admin": headers}, f"{YEAR}-03").status_code == status


def test_status_needs_no_token(client, app):
    response = client.get("/api/v1/siuss/status")
    assert response.status_code == 200
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 200


def test_timestamps_are_milliseconds_utc(world):
    w = world
    generate(w, f"{YEAR}-04")
    (entry,) = pull(w)
    assert entry["ts_flusso"].endswith("Z")
    moment = datetime.fromisoformat(entry["ts_flusso"].replace("Z", "+00:00"))
    assert abs(moment - datetime.now(UTC)).total_seconds() < 120
