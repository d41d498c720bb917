"""Bulk import of beneficiaries: the file, the dry run and its refusals, the team's Comuni,
confirmation through the single registration, the details erased, discard and expiry."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests import factories as f
from voucher.errors import Conflict, NotFound, ValidationFailed
from voucher.extensions import db
from voucher.models import AuditEvent, Beneficiary, BeneficiaryImport, Comune
from voucher.services import SYSTEM, batch_files, clock, reach
from voucher.services import beneficiary_import as service
from voucher.services.beneficiary_import_files import registered_codes_csv, template_csv

HEADER = (
    "codice_fiscale;nome;cognome;comune_istat;comune;categorie;telefono;email;indirizzo;"
    "cittadinanza"
)
LABELS = {"minor": "Minore", "disabled": "Persona con disabilità"}


def code(last, first, sex="F", age=40):
    return f.fiscal_code_for(f.unique_birth_date(age), sex, last, first)


def csv_of(*lines: str, header: str = HEADER, bom: bool = True) -> bytes:
    text = "\r\n".join([header, *lines]) + "\r\n"
    return text.encode("utf-8-sig" if bom else "utf-8")


@pytest.fixture
def worker(app):
    f.make_ente()
    return f.make_user("social_worker")


def actor(user):
    return f.actor(user)


def people() -> int:
    return db.session.execute(select(func.count()).select_from(Beneficiary)).scalar_one()


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def by_line(beneficiary_import) -> dict:
    return {r.line: r for r in beneficiary_import.rows}


def test_the_dry_run_refuses_row_by_row_and_writes_nobody(worker):
    existing = f.make_beneficiary()
    carla = code("Neri", "Carla")
    data = csv_of(
        f"{carla};Carla;Neri;048017;;Minore, disabled;055 1;carla@example.org;Via Roma 1;",
        ";Luca;Rossi;048017;;;;;;",
        "RSSMRA80A01D612C;Mario;Rossi;048017;;;;;;",
        f"{carla.lower()};Carla;Neri;048017;;;;;;",
        f"{existing.fiscal_code};{existing.first_name};{existing.last_name};048017;;;;;;",
        f"{code('Bianchi', 'Rosa')};Rosa;Bianchi;999999;;;;;;",
        f"{code('Verdi', 'Anna')};Anna;Verdi;;Atlantide;;;;;",
        f"{code('Galli', 'Rosa')};Rosa;Galli;;fiesole;astronauta;;;;",
        f"{code('Rossi', 'Mario', 'M')};Anna;Neri;048017;;;;;;",
        f"{code('Conti', 'Giulia')};;Conti;048017;;;;;;",
        f"{code('Ricci', 'Maria')};Maria;Ricci;100005;;;;;;AL",
        f"{code('Greco', 'Rosa')};Rosa;Greco;048017;;;;posta-sbagliata;;",
        f"{code('Serra', 'Anna')};Anna;Serra;048017;;;;;;XX",
    )
    before = people()
    done = service.create_import(actor(worker), data, category_labels=LABELS)
    db.session.commit()
    rows = by_line(done)
    outcomes = {line: (r.outcome, r.reason) for line, r in rows.items()}
    assert outcomes == {
        2: ("register", None),
        3: ("refused", "missing_fiscal_code"),
        4: ("refused", "invalid_fiscal_code"),
        5: ("refused", "duplicate_row"),
        6: ("refused", "already_registered"),
        7: ("refused", "unknown_comune"),
        8: ("refused", "unknown_comune"),
        9: ("refused", "unknown_category"),
        10: ("register", None),
        11: ("refused", "missing_name"),
        12: ("register", None),
        13: ("refused", "invalid_details"),
        14: ("refused", "invalid_details"),
    }
    assert rows[5].message == "Stesso codice fiscale della riga 2."
    assert rows[2].data["categories"] == ["minor", "disabled"] and rows[2].warning is None
    assert "«Atlantide» non è tra i Comuni dell'ente" in rows[8].message
    assert rows[9].message == "Categorie sconosciute: astronauta."
    assert "(RSS) non corrispondono a «Neri»" in rows[10].warning
    assert "indica un uomo, ma «Anna»" in rows[10].warning
    assert rows[12].data["comune_istat"] == "100005" and rows[12].data["citizenship"] == "AL"
    assert (done.status, done.total, done.planned, done.refused) == ("draft", 13, 3, 10)
    assert people() == before
    # A Comune outside the ente is recorded only when someone is registered there.
    assert db.session.execute(select(Comune).where(Comune.istat_code == "100005")).first() is None
    [event] = events("beneficiary_import.created")
    assert event.data == {"total": 13, "planned": 3, "refused": 10, "warnings": 1}


def test_a_comma_file_without_bom_and_comune_by_name(worker):
    person = code("Neri", "Carla")
    header = "Codice Fiscale,Nome,Cognome,Comune,Categorie"
    data = csv_of(
        f'{person},Carla,Neri,Fiesole,"minor,Persona con disabilita"', header=header, bom=False
    )
    done = service.create_import(actor(worker), data, category_labels=LABELS)
    [row] = done.rows
    assert row.outcome == "register", row.message
    assert row.data["comune_istat"] == "048015" and row.data["categories"] == ["minor", "disabled"]


@pytest.mark.parametrize("typed", ["48017", "Firenze"])
def test_an_istat_code_without_its_zero_or_a_name_in_its_column(worker, typed):
    data = csv_of(f"{code('Neri', 'Carla')};Carla;Neri;{typed};;;;;;")
    [row] = service.create_import(actor(worker), data).rows
    assert row.outcome == "register" and row.data["comune_istat"] == "048017"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Il file è vuoto."),
        (b"codice_fiscale;nome\r\nX;Y\r\n", "Mancano le colonne"),
        (csv_of(), "non contiene righe"),
        (csv_of(*[f"X{i};A;B;048017;;;;;;" for i in range(3)]), "più di 2 righe"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(worker, data, message):
    with pytest.raises(ValidationFailed) as refused:
        service.create_import(actor(worker), data, max_rows=2)
    assert message in refused.value.errors["file"][0]


def test_a_comune_outside_the_team_is_refused(worker):
    fiesole = db.session.execute(select(Comune).where(Comune.istat_code == "048015")).scalar_one()
    reach.set_team(SYSTEM, worker, [fiesole.id])
    db.session.commit()
    data = csv_of(
        f"{code('Neri', 'Carla')};Carla;Neri;048017;;;;;;",
        f"{code('Bruni', 'Anna')};Anna;Bruni;;Fiesole;;;;;",
        f"{code('Conti', 'Rosa')};Rosa;Conti;100005;;;;;;",
    )
    rows = by_line(service.create_import(actor(worker), data))
    assert (rows[2].outcome, rows[2].reason) == ("refused", "outside_team")
    assert rows[2].message == "Firenze non è tra i Comuni assegnati al tuo profilo."
    assert rows[3].outcome == rows[4].outcome == "register"


def _draft(worker):
    carla, paolo, mismatch = (
        code("Neri", "Carla"),
        code("Bruni", "Paolo", "M"),
        code("Rossi", "Mario", "M"),
    )
    data = csv_of(
        f"{carla};Carla;Neri;048017;;minor;055 1;carla@example.org;Via Roma 1;",
        f"{paolo};Paolo;Bruni;100005;;;;;;",
        f"{mismatch};Anna;Neri;048017;;;;;;",
        "RSSMRA80A01D612C;Mario;Rossi;048017;;;;;;",
    )
    done = service.create_import(actor(worker), data)
    db.session.commit()
    return done, (carla, paolo, mismatch)


def test_confirm_registers_through_the_single_registration_and_forgets_the_file(worker):
    draft, (carla, paolo, mismatch) = _draft(worker)
    done = service.confirm_import(actor(worker), draft)
    db.session.commit()
    assert (done.status, done.registered, done.refused) == ("done", 2, 2)
    person = db.session.execute(
        select(Beneficiary).where(Beneficiary.fiscal_code == carla)
    ).scalar_one()
    assert (person.first_name, person.last_name, person.categories) == ("Carla", "Neri", ["minor"])
    assert person.email == "carla@example.org" and person.comune.istat_code == "048017"
    assert (
        db.session.execute(select(Beneficiary).where(Beneficiary.fiscal_code == paolo))
        .scalar_one()
        .comune.name
        == "Prato"
    )
    # Without the tick, the row whose code disagrees is left out.
    assert (
        db.session.execute(select(Beneficiary).where(Beneficiary.fiscal_code == mismatch)).first()
        is None
    )
    db.session.expire_all()
    rows = by_line(db.session.get(BeneficiaryImport, done.id))
    assert rows[4].reason == "fiscal_code_mismatch" and rows[4].beneficiary_id is None
    assert rows[2].beneficiary_id == person.id
    assert all(r.data is None and r.fiscal_code is None for r in rows.values())
    assert len(events("beneficiary.registered")) == 2
    [event] = events("beneficiary_import.confirmed")
    assert event.data == {"registered": 2, "refused": 2}
    with pytest.raises(Conflict):
        service.confirm_import(actor(worker), done)


def test_the_tick_registers_the_rows_with_a_warning_too(worker):
    draft, (_carla, _paolo, mismatch) = _draft(worker)
    done = service.confirm_import(actor(worker), draft, include_warnings=True)
    assert done.registered == 3
    person = db.session.execute(
        select(Beneficiary).where(Beneficiary.fiscal_code == mismatch)
    ).scalar_one()
    assert (person.first_name, person.sex) == ("Anna", "M")


def test_a_person_registered_meanwhile_is_refused_at_confirm_and_the_rest_goes_on(worker):
    draft, (carla, _paolo, _mismatch) = _draft(worker)
    f.make_beneficiary(fiscal_code=carla, first_name="Carla", last_name="Neri")
    done = service.confirm_import(actor(worker), draft)
    rows = by_line(done)
    assert (rows[2].outcome, rows[2].reason) == ("refused", "already_registered")
    assert done.registered == 1 and rows[3].beneficiary_id is not None


def test_registered_codes_are_ready_for_bulk_issuance(worker):
    draft, (carla, paolo, _mismatch) = _draft(worker)
    done = service.confirm_import(actor(worker), draft)
    data = registered_codes_csv(actor(worker), done)
    db.session.commit()
    assert [r.fiscal_code for r in batch_files.read_rows(data)] == [carla, paolo]
    [event] = events("beneficiary_import.codes_downloaded")
    assert event.data == {"count": 2}
    assert template_csv().decode("utf-8-sig").startswith("codice_fiscale;nome;cognome;")


def test_discard_registers_nobody_and_erases_the_details(worker):
    draft, _codes = _draft(worker)
    before = people()
    service.discard_import(actor(worker), draft)
    db.session.commit()
    db.session.expire_all()
    gone = db.session.get(BeneficiaryImport, draft.id)
    assert gone.status == "discarded" and people() == before
    assert all(r.data is None and r.fiscal_code is None for r in gone.rows)
    [event] = events("beneficiary_import.discarded")
    assert event.data == {"total": 4}
    with pytest.raises(Conflict):
        service.confirm_import(actor(worker), gone)


def test_an_import_is_its_uploaders_only(worker):
    draft, _codes = _draft(worker)
    colleague = actor(f.make_user("social_worker"))
    with pytest.raises(NotFound):
        service.get_import(colleague, draft.id)
    with pytest.raises(NotFound):
        service.confirm_import(colleague, draft)
    assert service.list_imports(colleague) == []
    assert service.list_imports(actor(worker)) == [draft]


def test_drafts_older_than_a_day_are_discarded_by_the_nightly_job(worker, runner):
    old, _codes = _draft(worker)
    fresh, _codes = _draft(worker)
    db.session.execute(
        update(BeneficiaryImport)
        .where(BeneficiaryImport.id == old.id)
        .values(created_at=clock.now() - timedelta(days=1, minutes=1))
    )
    db.session.commit()
    result = runner.invoke(args=["expire"])
    assert "Importazioni di beneficiari non confermate annullate: 1." in result.stdout
    db.session.expire_all()
    assert db.session.get(BeneficiaryImport, old.id).status == "discarded"
    assert all(r.data is None for r in db.session.get(BeneficiaryImport, old.id).rows)
    assert db.session.get(BeneficiaryImport, fresh.id).status == "draft"
    [event] = events("beneficiary_import.discarded")
    assert event.data == {"total": 4, "expired": True} and event.actor_type == "system"
    assert service.discard_stale_drafts(SYSTEM, now=clock.now() + timedelta(days=2)) == 1
