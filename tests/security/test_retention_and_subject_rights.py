"""Retention and data-subject rights: the nightly job pseudonymises the people whose last
voucher ended beyond the retention period and leaves every figure of every report exactly as
it was; an admin exports everything held about one person, audited; the privacy notice names
the ente's DPO and its retention periods."""

import json
from datetime import UTC, date, datetime, time, timedelta

import pymupdf
import pytest
from sqlalchemy import select

from tests import factories as f
from tests.reports.world import Ledger, headers_for, issue, make_provider, make_scheme
from voucher.errors import NotEligible
from voucher.extensions import db
from voucher.models import AuditEvent, IssueBatch, IssueBatchRow, SiussFlow, Voucher
from voucher.periods import Month
from voucher.reports.fsc import fsc_report
from voucher.reports.funds import fondo_poverta_report, funds_report
from voucher.reports.liquidation import liquidation_report
from voucher.reports.siuss import siuss_report
from voucher.reports.statement import statement_report
from voucher.services import (
    SYSTEM,
    beneficiaries,
    clock,
    isee,
    issuance,
    siuss,
    statements,
    vouchers,
)
from voucher.services.siuss_activity import voucher_activities

TODAY = clock.today()
YEAR = TODAY.year - 2  # the cohort's year: its vouchers end on 31 December
# Six years on: past the default five years since the cohort's vouchers ended, and since the
# people were registered (today, as far as the database's timestamps go).
LATER = date(TODAY.year + 6, 1, 15)
BANDS = [
    {"isee_max_cents": 1_000_000, "coverage_percent": 90},
    {"isee_max_cents": 3_000_000, "coverage_percent": 65},
]
DSU_FIELDS = ("NumeroProtocolloDSU", "AnnoProtocolloDSU", "DataDSU")


def _protocol(n: int) -> str:
    return f"INPS-ISEE-{YEAR}-{n:09d}-00"


def _person(household=None, **details):
    person = f.make_beneficiary(isee_cents=None, household_id=household, **details)
    isee.add_isee_record(
        SYSTEM,
        person,
        type="ordinario",
        value_cents=900_000,
        dsu_protocol=_protocol(person.id),
        dsu_date=date(YEAR - 1, 12, 10),
        valid_until=date(YEAR, 12, 31),
    )
    db.session.commit()
    return person


@pytest.fixture
def cohort(app):
    """Three people of two years ago, with vouchers of every kind of fund, redemptions,
    a reversal, a revocation, expiry, an approved statement and stored SIUSS flows; and one
    person whose voucher runs until next year."""
    f.make_ente()
    schemes = {
        "A": make_scheme(YEAR, "A", copay_bands=BANDS),
        "B": make_scheme(YEAR, "B", unit="EUR", unit_price_cents=None, face_value_cents=30_000),
        "P": make_scheme(YEAR, "P", fund="FONDO_POVERTA"),
    }
    provider = make_provider(YEAR)
    household = beneficiaries.create_household(SYSTEM, "Famiglia Rossi").id
    people = [
        _person(household, address="Via Roma 1, Firenze", phone="055 123456", email="a@b.it"),
        _person(household, categories=("disabled",), comune=f.FIESOLE),
        _person(age=12, categories=("minor",), address="Via Larga 2"),
    ]
    ledger = Ledger()
    issued = [
        issue(schemes["A"], people[0]),
        issue(schemes["B"], people[1]),
        issue(schemes["P"], people[2]),
        issue(schemes["A"], people[2]),
    ]
    for month in (2, 3, 5):
        ledger.redeem(provider, issued[0], "A1", date(YEAR, month, 10), quantity="2.5")
        ledger.redeem(provider, issued[1], "B1", date(YEAR, month, 11), amount=4_150, hours="2")
        ledger.redeem(provider, issued[2], "P2", date(YEAR, month, 12), quantity="1.25")
    ledger.reverse(ledger.redeem(provider, issued[3], "A2", date(YEAR, 3, 20), quantity="1"))
    vouchers.revoke_voucher(SYSTEM, issued[3], "Trasferita in altra regione")
    vouchers.expire_vouchers(SYSTEM, day=date(YEAR + 1, 1, 1))
    statements.approve_statement(SYSTEM, provider, Month(YEAR, 3))
    siuss.generate_flows(SYSTEM, Month(YEAR, 3))
    batch = IssueBatch(scheme_id=schemes["A"].id, status="done", total=2, planned=1)
    batch.rows = [
        IssueBatchRow(
            line=2,
            fiscal_code=people[0].fiscal_code,
            note="Lettera a mano",
            beneficiary_id=people[0].id,
            outcome="refused",
        ),
        IssueBatchRow(line=3, fiscal_code="RSSMRA80A01H501U", note="Chi?", outcome="refused"),
    ]
    db.session.add(batch)
    db.session.commit()

    kept = f.make_beneficiary(address="Via Nuova 3")
    ongoing = make_scheme(TODAY.year, "A", valid_until=date(TODAY.year + 1, 12, 31))
    issue(ongoing, kept)
    return {"people": people, "kept": kept, "provider": provider, "batch": batch}


def _later(monkeypatch, day: date = LATER) -> None:
    """Move the application's clock to `day` (noon in Rome)."""
    moment = datetime.combine(day, time(12), tzinfo=clock.ROME).astimezone(UTC)
    monkeypatch.setattr(clock, "today", lambda: day)
    monkeypatch.setattr(clock, "now", lambda: moment)


def _text(data) -> str:
    """A report as canonical text: every figure to the cent, nothing of when it was made."""
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "generated_at"}
    return json.dumps(data, default=str, sort_keys=True)


def _siuss_figures() -> str:
    """The SIUSS flow of the cohort's year and of one month, without the person blocks and
    DSU protocols (what pseudonymisation replaces): every amount, date and code."""
    data = siuss_report(date(YEAR, 1, 1), date(YEAR, 12, 31))
    prestazioni = [
        {k: v for k, v in p.items() if k not in DSU_FIELDS}
        for person in data["beneficiaries"]
        for p in person["prestazioni"]
    ]
    month = [
        (a.voucher_code, a.amount_cents, a.public_cents, a.copay_cents, a.services)
        for a in voucher_activities(date(YEAR, 3, 1), date(YEAR, 3, 31))
    ]
    figures = {k: data[k] for k in ("prestazioni", "public_cents", "copay_cents")}
    return _text([figures, len(data["beneficiaries"]), prestazioni, month])


def _reports(provider) -> dict:
    return {
        "funds": _text(funds_report(YEAR)),
        "fondo_poverta": _text(fondo_poverta_report(YEAR)),
        **{
            f"fsc_{year}_{basis}": _text(fsc_report(year, basis))
            for year in (YEAR, YEAR + 1)
            for basis in ("cash", "competence")
        },
        **{
            f"statement_{m}": _text(statement_report(provider, Month(YEAR, m)))
            for m in range(1, 13)
        },
        "liquidation": _text(liquidation_report(Month(YEAR, 3))),
        "siuss": _siuss_figures(),
        "stored_flows": _text(
            [(fl.id_flusso, fl.public_cents, fl.copay_cents, fl.xml.hex()) for fl in _flows()]
        ),
    }


def _flows():
    return db.session.execute(select(SiussFlow).order_by(SiussFlow.id)).scalars().all()


def _retention_events() -> list[AuditEvent]:
    return list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "retention.run").order_by(AuditEvent.seq)
        ).scalars()
    )


def test_pseudonymisation_leaves_every_report_identical_to_the_cent(
    app, runner, cohort, monkeypatch
):
    people, kept = cohort["people"], cohort["kept"]
    identities = [
        (p.fiscal_code, p.first_name, p.last_name, p.birth_date, p.isee_records[0].dsu_protocol)
        for p in people
    ]
    kept_code = kept.fiscal_code
    _later(monkeypatch)
    before = _reports(cohort["provider"])

    # An ente keeping personal data seven years: nobody is due yet.
    f.make_user("admin")
    from voucher.services import privacy

    privacy.update_privacy_settings(SYSTEM, retention_personal_years=7)
    db.session.commit()
    assert "Beneficiari pseudonimizzati" in runner.invoke(args=["retention"]).output
    assert _retention_events()[-1].data["pseudonymised"] == 0

    privacy.update_privacy_settings(SYSTEM, retention_personal_years=None)  # back to 5
    db.session.commit()
    assert runner.invoke(args=["retention", "--dry-run"]).output.strip().endswith(": 3.")
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    event = _retention_events()[-1]
    assert event.data["pseudonymised"] == 3
    assert event.data["households"] == 1
    assert event.data["batch_rows"] == 1
    assert event.data["personal_cutoff"] == str(date(TODAY.year + 1, 1, 15))

    after = _reports(cohort["provider"])
    for name in before:
        assert after[name] == before[name], name

    for person, (code, first, last, born, _protocol) in zip(people, identities, strict=True):
        db.session.refresh(person)
        assert person.pseudonymised_at is not None
        assert person.fiscal_code.startswith("#") and len(person.fiscal_code) == 16
        assert code not in person.fiscal_code and first not in person.full_name
        assert last not in person.full_name
        assert person.birth_date == date(born.year, 1, 1)
        assert person.address is None and person.phone is None and person.email is None
        assert all(r.dsu_protocol is None for r in person.isee_records)
        assert person.categories and person.comune is not None  # the reports need them
        assert beneficiaries.find_by_fiscal_code(code) is None
    assert people[0].household.label == f"#{people[0].household_id}"
    rows = sorted(cohort["batch"].rows, key=lambda r: r.line)
    assert rows[0].fiscal_code == people[0].fiscal_code[:15] and rows[0].note is None
    assert rows[1].fiscal_code.startswith("#") and rows[1].note is None
    db.session.refresh(kept)
    assert kept.fiscal_code == kept_code and kept.pseudonymised_at is None
    assert kept.address == "Via Nuova 3"

    # Idempotent: a second run changes nothing, and says so in its own event.
    codes = [p.fiscal_code for p in people]
    runner.invoke(args=["retention"])
    assert [p.fiscal_code for p in people] == codes
    assert _retention_events()[-1].data["pseudonymised"] == 0
    assert _reports(cohort["provider"]) == before

    # Someone registered again is a new record; pseudonymised in turn, the stem links them.
    again = f.make_beneficiary(fiscal_code=identities[0][0])
    _later(monkeypatch, LATER + timedelta(days=365))
    runner.invoke(args=["retention"])
    db.session.refresh(again)
    assert again.fiscal_code[:15] == people[0].fiscal_code[:15] != again.fiscal_code

    # Counts, never names, in the job's events.
    events = json.dumps([e.data for e in _retention_events()])
    for code, _first, last, _born, protocol in identities:
        assert code not in events and last not in events and protocol not in events

    # A pseudonym never reaches INPS: flows already sent stay, none is built from it.
    assert siuss.generate_flows(SYSTEM, Month(YEAR, 3)) == {
        "period": f"{YEAR}-03",
        "inserted": 0,
        "cancelled": 0,
        "unchanged": 3,
        "withheld_pseudonymised": 0,
    }
    february = siuss.generate_flows(SYSTEM, Month(YEAR, 2))
    assert (february["inserted"], february["withheld_pseudonymised"]) == (0, 3)
    # Nor is a voucher issued to a pseudonym: the person is registered again instead.
    with pytest.raises(NotEligible, match="pseudonimizzati"):
        issuance.issue_voucher(SYSTEM, make_scheme(clock.today().year, "A"), people[0])


def _export(client, person, **form):
    url = f"/admin/beneficiari/{person.id}/esportazione"
    return url, client.post(url, data=form)


def test_an_admin_exports_everything_held_about_one_person_and_it_is_audited(app, client, cohort):
    person, other = cohort["people"][0], cohort["people"][2]
    worker = f.make_user("social_worker")
    f.login(client, worker)
    assert "esportazione" not in client.get(f"/servizi/beneficiari/{person.id}").get_data(
        as_text=True
    )
    url, refused = _export(client, person, reason="Richiesta", format="json")
    assert refused.status_code == 403

    client.post("/esci")
    f.login(client, f.make_user("admin"))
    page = client.get(f"/servizi/beneficiari/{person.id}").get_data(as_text=True)
    assert url in page
    assert client.get(url).status_code == 200
    _url, missing = _export(client, person, reason="  ", format="json")
    assert missing.status_code == 200 and "Motivo" in missing.get_data(as_text=True)

    _url, answer = _export(client, person, reason="Richiesta di accesso prot. 118", format="json")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert "attachment" in answer.headers["Content-Disposition"]
    assert person.fiscal_code not in answer.headers["Content-Disposition"]
    assert "no-store" in answer.headers["Cache-Control"]
    record = answer.get_json()
    assert record["person"]["fiscal_code"] == person.fiscal_code
    assert record["person"]["address"] == "Via Roma 1, Firenze"
    assert record["household"] == {
        "id": person.household_id,
        "label": "Famiglia Rossi",
        "other_members": 1,
    }
    assert [r["dsu_protocol"] for r in record["isee_records"]] == [_protocol(person.id)]
    assert [v["code"] for v in record["vouchers"]] == [v.code for v in vouchers_of(person)]
    assert len(record["ledger_entries"]) == 3
    assert {e["action"] for e in record["audit_events"]} >= {
        "beneficiary.registered",
        "beneficiary.isee_recorded",
        "voucher.issued",
        "voucher.redeemed",
    }
    assert all("actor_label" not in e for e in record["audit_events"])
    assert record["siuss_flows"] and record["batch_rows"][0]["note"] == "Lettera a mano"
    assert other.fiscal_code not in answer.get_data(as_text=True)

    _url, pdf = _export(client, person, reason="Copia per l'interessato", format="pdf")
    assert pdf.headers["Content-Type"] == "application/pdf"
    with pymupdf.open(stream=pdf.data, filetype="pdf") as document:
        text = "".join(page.get_text() for page in document)
    assert person.fiscal_code in text and _protocol(person.id) in text
    assert "Prestazioni registrate" in text

    exported = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "beneficiary.exported")
    ).scalars()
    assert [(e.object_id, e.data["format"], e.data["reason"]) for e in exported] == [
        (str(person.id), "json", "Richiesta di accesso prot. 118"),
        (str(person.id), "pdf", "Copia per l'interessato"),
    ]


def vouchers_of(person):
    return db.session.execute(
        select(Voucher).where(Voucher.beneficiary_id == person.id).order_by(Voucher.id)
    ).scalars()


def test_the_privacy_notice_names_the_dpo_and_the_retention_periods(app, client):
    f.make_ente()
    admin = headers_for(client, "admin")
    settings = {
        "pec": "sds@pec.example.it",
        "dpo_name": "Studio Rossi Srl",
        "dpo_email": "dpo@example.it",
        "dpo_pec": "dpo@pec.example.it",
        "retention_personal_years": 3,
    }
    for wrong in (
        {"retention_personal_years": 0},
        {"retention_personal_years": 11},
        {"retention_accounting_years": 9},
        {"dpo_email": "non-un-indirizzo"},
        {"retention_accounting_years": "10"},
    ):
        answer = client.patch("/api/v1/ente/privacy", json=wrong, headers=admin)
        assert answer.status_code == 422, (wrong, answer.get_json())
    huge = '{"retention_accounting_years": ' + "9" * 5000 + "}"
    answer = client.patch(
        "/api/v1/ente/privacy", data=huge, content_type="application/json", headers=admin
    )
    assert 400 <= answer.status_code < 500
    worker = headers_for(client, "social_worker")
    assert client.patch("/api/v1/ente/privacy", json=settings, headers=worker).status_code == 403
    answer = client.patch("/api/v1/ente/privacy", json=settings, headers=admin)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["retention_personal_years"] == 3
    assert answer.get_json()["retention_accounting_years"] == 10
    assert client.get("/api/v1/ente", headers=worker).get_json()["privacy"]["dpo_email"] == (
        "dpo@example.it"
    )

    notice = client.get("/privacy").get_data(as_text=True)
    for text in (
        "Società della Salute di Prova",
        "sds@pec.example.it",
        "Studio Rossi Srl",
        "dpo@example.it",
        "dpo@pec.example.it",
        "per 3 anni dalla fine",
        "per 10 anni (art. 2220",
        "INPS",
        "art. 6, par. 1, lett. e",
        "art. 9, par. 2, lett. g",
        "Garante per la protezione dei dati personali",
        "art. 22",
    ):
        assert text in notice, text


def test_the_admin_sets_the_privacy_settings_on_the_ente_page(app, client):
    f.make_ente()
    f.login(client, f.make_user("admin"))
    page = client.get("/admin/ente").get_data(as_text=True)
    assert "Protezione dei dati personali" in page
    refused = client.post("/admin/ente/privacy", data={"privacy-retention_personal_years": "0"})
    assert refused.status_code == 200
    answer = client.post(
        "/admin/ente/privacy",
        data={"privacy-dpo_email": "dpo@example.it", "privacy-retention_personal_years": "4"},
    )
    assert answer.status_code == 302
    notice = client.get("/privacy").get_data(as_text=True)
    assert "dpo@example.it" in notice and "per 4 anni dalla fine" in notice
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "ente.privacy_updated")
    ).scalar_one()
    assert event.data == {
        "fields": ["dpo_email", "retention_personal_years"],
        "retention_personal_years": 4,
    }
