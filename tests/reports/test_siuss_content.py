"""What the SIUSS PS flow says of each person and prestazione: the DSU of the ISEE record
that set the coverage, the citizenship, the residence anywhere in Italy, the presa in carico
of the scheme, and the ente's own SIUSS code and seat. Without the SIUSS code nothing is
generated."""

from datetime import date

import pytest
from sqlalchemy import func, select

from tests import factories as f
from tests.reports.test_siuss import NS, YEAR, flow, generate, schema
from tests.reports.world import Ledger, headers_for, make_provider, make_scheme, parse
from voucher.extensions import db
from voucher.models import Comune, Ente, SiussFlow
from voucher.services import SYSTEM, citizenship, isee, issuance
from voucher.services import siuss_codes as codes
from voucher.services.siuss_activity import seat_belfiore

MILANO = {"istat_code": "015146", "belfiore_code": "F205", "name": "Milano"}
OLD_DSU = f"INPS-ISEE-{YEAR - 1}-000000001-00"
NEW_DSU = f"INPS-ISEE-{YEAR}-000000002-01"


def _record(person, protocol: str, dsu_date: date, value_cents: int):
    record = isee.add_isee_record(
        SYSTEM,
        person,
        type="ordinario",
        value_cents=value_cents,
        dsu_protocol=protocol,
        dsu_date=dsu_date,
        valid_until=date(YEAR, 12, 31),
    )
    db.session.commit()
    return record


@pytest.fixture
def world(app, client):
    """Giulia: Italian, living in Firenze, on a banded scheme with presa in carico, whose
    ISEE is renewed in March (new coverage from April). Arben: Albanian, living in Milano
    (outside the ente), on a scheme paid for Fiesole, with no ISEE and no presa in carico."""
    f.make_ente()
    bands = [
        {"isee_max_cents": 2_000_000, "coverage_percent": 80},
        {"isee_max_cents": 5_000_000, "coverage_percent": 50},
    ]
    banded = make_scheme(YEAR, "A", copay_bands=bands, presa_in_carico=True)
    open_to_all = make_scheme(YEAR, "P", fund="FONDO_POVERTA", residence_required=False)
    provider = make_provider(YEAR)
    giulia = f.make_beneficiary(isee_cents=None, categories=["elderly_dependent"])
    _record(giulia, OLD_DSU, date(YEAR - 1, 12, 15), 1_500_000)
    arben = f.make_beneficiary(
        age=40, sex="M", comune=MILANO, isee_cents=None, citizenship="al", categories=[]
    )
    ledger = Ledger()
    banded_voucher, _pin = issuance.issue_voucher(SYSTEM, banded, giulia, day=date(YEAR, 1, 1))
    poverty_voucher, _pin = issuance.issue_voucher(
        SYSTEM, open_to_all, arben, day=date(YEAR, 1, 1), comune_istat=f.FIESOLE["istat_code"]
    )
    db.session.commit()
    ledger.redeem(provider, banded_voucher, "A1", date(YEAR, 3, 5), quantity="1")
    _record(giulia, NEW_DSU, date(YEAR, 3, 10), 3_000_000)  # 50 % from 1 April
    ledger.redeem(provider, banded_voucher, "A1", date(YEAR, 4, 7), quantity="1")
    ledger.redeem(provider, poverty_voucher, "P2", date(YEAR, 3, 20), quantity="2")
    return {
        "client": client,
        "admin": headers_for(client, "admin"),
        "giulia": giulia,
        "arben": arben,
        "vouchers": (banded_voucher, poverty_voucher),
    }


def _people(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    schema().validate(response.data)
    root = parse(response.data)
    return {b.get("CodiceFiscale"): b for b in root.iterfind("s:Beneficiario", NS)}


def _only_prestazione(person):
    (prestazione,) = person.findall("s:PrestazioniSociali", NS)
    return prestazione


def test_the_dsu_is_that_of_the_record_that_set_the_coverage(world):
    w = world
    march = _people(flow(w, f"{YEAR}-03-01", f"{YEAR}-03-31"))
    april = _people(flow(w, f"{YEAR}-04-01", f"{YEAR}-04-30"))
    spring = _people(flow(w, f"{YEAR}-03-01", f"{YEAR}-04-30"))
    code = w["giulia"].fiscal_code

    old = _only_prestazione(march[code])
    assert (old.get("ImportoQuotaEnte"), old.get("ImportoQuotaUtente")) == ("16.00", "4.00")
    assert old.get("NumeroProtocolloDSU") == OLD_DSU
    assert old.get("AnnoProtocolloDSU") == str(YEAR - 1)
    assert old.get("DataDSU") == f"{YEAR - 1}-12-15"

    new = _only_prestazione(april[code])
    assert (new.get("ImportoQuotaEnte"), new.get("ImportoQuotaUtente")) == ("10.00", "10.00")
    assert new.get("NumeroProtocolloDSU") == NEW_DSU
    assert (new.get("AnnoProtocolloDSU"), new.get("DataDSU")) == (str(YEAR), f"{YEAR}-03-10")

    # Over both months: the coverage in force on the last service date.
    assert _only_prestazione(spring[code]).get("NumeroProtocolloDSU") == NEW_DSU


def test_a_prestazione_without_isee_has_no_dsu(world):
    arben = _only_prestazione(
        _people(flow(world, f"{YEAR}-03-01", f"{YEAR}-03-31"))[world["arben"].fiscal_code]
    )
    assert arben.get("PresenzaProvaMezzi") == "4"
    assert not {"NumeroProtocolloDSU", "AnnoProtocolloDSU", "DataDSU"} & set(arben.attrib)


def test_citizenship_residence_and_presa_in_carico(world):
    w = world
    people = _people(flow(w, f"{YEAR}-03-01", f"{YEAR}-03-31"))
    giulia, arben = people[w["giulia"].fiscal_code], people[w["arben"].fiscal_code]

    assert giulia.find("s:Anagrafica", NS).get("CodiceCittadinanza") == "380"
    assert arben.find("s:Anagrafica", NS).get("CodiceCittadinanza") == "008"  # Albania
    # The residence outside the ente: Milano, in Lombardia.
    assert arben.find("s:Indirizzo", NS).attrib == {
        "CodiceRegione": "03",
        "CodiceComune": MILANO["istat_code"],
        "CodiceNazione": "380",
    }
    assert _only_prestazione(giulia).get("PresaCarico") == "1"
    assert _only_prestazione(arben).get("PresaCarico") == "2"
    for person in (giulia, arben):  # the XSD leaves SINA optional; none is sent
        assert _only_prestazione(person).find("s:SINA", NS) is None


def test_the_stored_flows_carry_the_same_content(world):
    w = world
    assert generate(w, f"{YEAR}-04").status_code == 201
    stored = db.session.execute(select(SiussFlow)).scalar_one()
    schema().validate(stored.xml)
    root = parse(stored.xml)
    ente = root.find("s:IdentificazioneFlusso/s:Ente", NS)
    assert (ente.get("Codice"), ente.get("Indirizzo")) == (f.ENTE_SIUSS_CODE, "D612")
    assert stored.id_flusso.startswith(f"{f.ENTE_SIUSS_CODE}.PS.")
    assert root.find("s:Beneficiario/s:PrestazioniSociali", NS).get("DataDSU") == f"{YEAR}-03-10"


def test_without_the_siuss_code_nothing_is_generated(world):
    w = world
    ente = f.make_ente(siuss_code=None)
    assert ente.siuss_code is None
    for response in (
        flow(w, f"{YEAR}-03-01", f"{YEAR}-03-31"),
        generate(w, f"{YEAR}-03"),
        w["client"].get("/api/v1/siuss/flussi?since=0", headers=w["admin"]),
    ):
        assert response.status_code == 409
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert problem["code"] == "siuss_code_missing"
        assert "codice ente SIUSS" in problem["detail"]
    assert db.session.execute(select(func.count(SiussFlow.id))).scalar_one() == 0


def test_without_a_seat_nothing_is_generated(world):
    f.make_ente(belfiore_code=None)  # an Ambito of two Comuni, its seat not given
    response = flow(world, f"{YEAR}-03-01", f"{YEAR}-03-31")
    assert response.status_code == 409
    assert "sede legale" in response.get_json()["detail"]


def test_the_seat_is_the_entes_own_comune_or_its_only_one(app):
    fiesole = Comune(**f.FIESOLE)
    assert seat_belfiore(Ente(belfiore_code="D612", comuni=[fiesole])) == "D612"
    assert seat_belfiore(Ente(belfiore_code=None, comuni=[fiesole])) == "D575"
    assert seat_belfiore(Ente(belfiore_code=None, comuni=[fiesole, Comune(**f.FIRENZE)])) is None


def test_every_citizenship_has_a_siuss_code_and_italy_is_380():
    assert codes.ITALY == citizenship.siuss_code("IT") == "380"
    table = citizenship.countries()
    assert table[0].iso_alpha2 == "IT" and len(table) > 240
    assert all(len(c.siuss_code) == 3 and c.siuss_code.isdigit() for c in table)
    assert len({c.siuss_code for c in table}) == len(table)
    assert citizenship.siuss_code("ma") == "504" and citizenship.siuss_code("XX") is None


def test_dsu_attributes_fit_the_schema():
    assert codes.dsu_attributes(None, date(2026, 1, 5)) == {}
    assert codes.dsu_attributes("INPS-ISEE-2025-123456789-00", date(2026, 1, 5)) == {
        "NumeroProtocolloDSU": "INPS-ISEE-2025-123456789-00",
        "AnnoProtocolloDSU": "2025",
        "DataDSU": "2026-01-05",
    }
