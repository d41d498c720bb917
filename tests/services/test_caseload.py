"""The caseload lists (voucher.services.caseload): each filter, the text search, the sorts,
the pages and the reach of a social worker; and a person's timeline, newest first."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from tests import factories as f
from voucher.extensions import db
from voucher.models import Comune, Voucher
from voucher.services import SYSTEM, caseload, clock, competence, isee, issuance, reach, redemption
from voucher.services import vouchers as voucher_service
from voucher.services.caseload import Filters
from voucher.services.redemption import RedemptionRequest


@dataclass
class Caseload:
    """Firenze: Anna Bianchi (a voucher of A ending in 10 days, untouched; an ISEE ending in
    15), Dario Neri (a revoked voucher of A), Elena Rossi (no voucher; an ISEE ending in 20).
    Fiesole: Carlo Verdi (a voucher of B, 5% left, ending in 200 days; a sociosanitario ISEE
    ending in 5, the one B reads). The admin's view: SYSTEM."""

    a: object
    b: object
    anna: object
    carlo: object
    dario: object
    elena: object
    v_anna: Voucher
    v_carlo: Voucher
    v_dario: Voucher
    firenze: int
    fiesole: int


def _comune_id(spec) -> int:
    return db.session.execute(
        select(Comune.id).where(Comune.istat_code == spec["istat_code"])
    ).scalar_one()


def _record(person, isee_type, dsu_days_ago, ends_in, n):
    today = clock.today()
    isee.add_isee_record(
        SYSTEM,
        person,
        type=isee_type,
        value_cents=900_000,
        dsu_protocol=f"INPS-ISEE-{today.year}-{n:09d}-00",
        dsu_date=today - timedelta(days=dsu_days_ago),
        valid_until=today + timedelta(days=ends_in),
    )


def _set(voucher, **values):
    """Terms a long life would have left (an expiry, a balance), written directly."""
    db.session.execute(update(Voucher).where(Voucher.id == voucher.id).values(**values))


@pytest.fixture
def load(app):
    return make_caseload()


def make_caseload() -> Caseload:
    """The world of the Caseload docstring, committed."""
    f.make_ente()
    today = clock.today()
    a = f.make_scheme(name="Misura A", face_value_cents=50_000)
    b = f.make_scheme(name="Misura B", face_value_cents=100_000, isee_type="sociosanitario")
    anna = f.make_beneficiary(first_name="Anna", last_name="Bianchi")
    carlo = f.make_beneficiary(first_name="Carlo", last_name="Verdi", comune=f.FIESOLE)
    dario = f.make_beneficiary(first_name="Dario", last_name="Neri")
    elena = f.make_beneficiary(
        first_name="Elena", last_name="Rossi", isee_valid_until=today + timedelta(days=20)
    )
    v_anna, _pin = issuance.issue_voucher(SYSTEM, a, anna)
    v_carlo, _pin = issuance.issue_voucher(SYSTEM, b, carlo)
    v_dario, _pin = issuance.issue_voucher(SYSTEM, a, dario)
    voucher_service.revoke_voucher(SYSTEM, v_dario, "Trasferito fuori regione")
    _set(v_anna, valid_until=today + timedelta(days=10))
    _set(v_dario, valid_until=today + timedelta(days=10))
    _set(v_carlo, valid_until=today + timedelta(days=200), balance_cents=5_000)
    _record(anna, "ordinario", 10, 15, 1)  # the newest (a DSU date beats none)
    _record(carlo, "sociosanitario", 100, 5, 2)
    _record(carlo, "ordinario", 100, 3, 3)
    _record(carlo, "ordinario", 5, 300, 4)  # renewed: the ordinario no longer expires
    db.session.commit()
    db.session.expire_all()
    return Caseload(
        a, b, anna, carlo, dario, elena, v_anna, v_carlo, v_dario,
        _comune_id(f.FIRENZE), _comune_id(f.FIESOLE),
    )  # fmt: skip


def people(filters=Filters(), actor=SYSTEM, sort="nome", page=1) -> list[str]:
    found = caseload.list_people(actor, filters, sort, page)
    return [row.person.last_name for row in found.rows]


def codes(filters=Filters(), actor=SYSTEM, sort="emissione", page=1) -> list[str]:
    return [v.code for v in caseload.list_vouchers(actor, filters, sort, page).rows]


FILTERS = {
    "nothing": (lambda w: Filters(), ["Bianchi", "Neri", "Rossi", "Verdi"], "anna carlo dario"),
    "comune": (lambda w: Filters(comune_id=w.fiesole), ["Verdi"], "carlo"),
    "scheme": (lambda w: Filters(scheme_id=w.a.id), ["Bianchi", "Neri"], "anna dario"),
    "status": (lambda w: Filters(status="revoked"), ["Neri"], "dario"),
    # Open vouchers only: Dario's revoked one ends in 10 days too, but does not "expire".
    "expiring": (lambda w: Filters(expiring_days=30), ["Bianchi"], "anna"),
    "expiring_far": (lambda w: Filters(expiring_days=366), ["Bianchi", "Verdi"], "anna carlo"),
    "balance_euros": (lambda w: Filters(balance_below_cents=10_000), ["Verdi"], "carlo"),
    "balance_percent": (lambda w: Filters(balance_below_percent=10), ["Verdi"], "carlo"),
    "combined": (lambda w: Filters(scheme_id=w.a.id, status="active"), ["Bianchi"], "anna"),
    # One voucher must match all: Anna's is of A, Carlo's is the one nearly spent.
    "same_voucher": (lambda w: Filters(scheme_id=w.a.id, balance_below_percent=10), [], ""),
    "text_name": (lambda w: Filters(text="bianchi anna"), ["Bianchi"], "anna"),
    "text_reversed": (lambda w: Filters(text="Carlo Ver"), ["Verdi"], "carlo"),
}


def test_each_filter_keeps_what_it_says(load):
    for name, (make, expected_people, expected_vouchers) in FILTERS.items():
        filters = make(load)
        assert people(filters) == expected_people, name
        wanted = {getattr(load, f"v_{who}").code for who in expected_vouchers.split()}
        assert set(codes(filters)) == wanted, name
        assert caseload.list_people(SYSTEM, filters).total == len(expected_people), name
        assert caseload.list_vouchers(SYSTEM, filters).total == len(wanted), name


def test_the_text_search_finds_a_fiscal_code_by_its_beginning(load):
    assert people(Filters(text=load.carlo.fiscal_code[:9].lower())) == ["Verdi"]
    assert codes(Filters(text=load.carlo.fiscal_code)) == [load.v_carlo.code]
    assert Filters(text=load.carlo.fiscal_code).for_audit() == {
        "search": "ricerca per codice fiscale"
    }


def test_the_isee_filter_reads_the_newest_record_of_the_type_the_scheme_reads(load):
    # Without a scheme: any type whose newest record ends in time. Carlo's sociosanitario
    # ends in 5 days; his ordinario was renewed. Anna's newest ends in 15, Elena's in 20.
    assert people(Filters(isee_expiring_days=16)) == ["Bianchi", "Verdi"]
    assert people(Filters(isee_expiring_days=30)) == ["Bianchi", "Rossi", "Verdi"]
    assert people(Filters(isee_expiring_days=4)) == []
    # With a scheme: the type it reads (B: sociosanitario; A: ordinario).
    assert people(Filters(isee_expiring_days=30, scheme_id=load.b.id)) == ["Verdi"]
    assert people(Filters(isee_expiring_days=30, scheme_id=load.a.id)) == ["Bianchi"]
    # Vouchers: each reads its own scheme's type.
    # Dario's ISEE ends in a year: his voucher is not there.
    assert set(codes(Filters(isee_expiring_days=30))) == {load.v_anna.code, load.v_carlo.code}
    assert codes(Filters(isee_expiring_days=7)) == [load.v_carlo.code]


def test_the_sorts(load):
    anna, carlo, dario = load.v_anna.code, load.v_carlo.code, load.v_dario.code
    assert codes(sort="emissione") == [dario, carlo, anna]  # newest issued first
    assert codes(sort="nome") == [anna, dario, carlo]
    assert codes(sort="scadenza")[-1] == carlo
    assert codes(sort="saldo")[0] == carlo
    assert codes(sort="nonsense") == codes(sort="emissione")
    assert people(sort="recenti") == ["Rossi", "Neri", "Verdi", "Bianchi"]
    assert people(sort="nome") == ["Bianchi", "Neri", "Rossi", "Verdi"]


def test_a_person_row_sums_their_open_vouchers(load):
    rows = {r.person.last_name: r for r in caseload.list_people(SYSTEM, Filters()).rows}
    assert (rows["Bianchi"].open_vouchers, rows["Bianchi"].open_balance_cents) == (1, 50_000)
    assert rows["Bianchi"].next_expiry == clock.today() + timedelta(days=10)
    assert (rows["Neri"].open_vouchers, rows["Neri"].next_expiry) == (0, None)
    assert rows["Verdi"].open_balance_cents == 5_000


def test_the_pages(load, monkeypatch):
    monkeypatch.setattr(caseload, "PAGE_SIZE", 3)
    first = caseload.list_people(SYSTEM, Filters())
    assert (first.total, first.page, first.pages) == (4, 1, 2)
    assert [r.person.last_name for r in first.rows] == ["Bianchi", "Neri", "Rossi"]
    assert people(page=2) == ["Verdi"]
    assert people(page=99) == ["Verdi"]  # past the end: the last page
    assert people(page=-5) == ["Bianchi", "Neri", "Rossi"]
    second = caseload.list_vouchers(SYSTEM, Filters(), "nome", 2)
    assert (second.total, second.pages, [v.code for v in second.rows]) == (3, 1, codes(sort="nome"))
    empty = caseload.list_people(SYSTEM, Filters(status="exhausted"))
    assert (empty.total, empty.pages, empty.rows) == (0, 1, [])


def test_a_social_worker_lists_only_their_comuni(load):
    worker = f.make_user("social_worker")
    reach.set_team(SYSTEM, worker, [load.firenze])
    db.session.commit()
    actor = f.actor(worker)
    assert people(actor=actor) == ["Bianchi", "Neri", "Rossi"]
    assert set(codes(actor=actor)) == {load.v_anna.code, load.v_dario.code}
    # A filter on vouchers never reveals one charged elsewhere.
    assert people(Filters(scheme_id=load.b.id), actor=actor) == []
    assert people(Filters(text="Verdi"), actor=actor) == []
    assert caseload.list_vouchers(actor, Filters(comune_id=load.fiesole)).total == 0
    # Anna's voucher moved to Fiesole: she still lives in Firenze, her voucher is gone.
    competence.transfer(SYSTEM, load.v_anna, f.FIESOLE["istat_code"], clock.today())
    db.session.commit()
    assert set(codes(actor=actor)) == {load.v_dario.code}
    rows = caseload.list_people(actor, Filters()).rows
    assert [(r.person.last_name, r.open_vouchers) for r in rows][0] == ("Bianchi", 0)
    exported = [r.person.last_name for r in caseload.all_people(actor, Filters())]
    assert exported == ["Bianchi", "Neri", "Rossi"]


def test_an_export_has_a_limit(load, monkeypatch):
    monkeypatch.setattr(caseload, "EXPORT_LIMIT", 2)
    with pytest.raises(caseload.TooManyRows):
        caseload.all_vouchers(SYSTEM, Filters())
    assert len(list(caseload.all_vouchers(SYSTEM, Filters(status="active")))) == 2


def test_the_timeline_tells_the_story_newest_first(load):
    person, voucher = load.anna, load.v_anna
    provider = f.make_provider(services=("A1",), valid_from=clock.today() - timedelta(days=400))
    request = RedemptionRequest(voucher.code, "A1", clock.today(), quantity=Decimal("2"))
    done, _replay = redemption.redeem(SYSTEM, provider.id, request, "timeline-1")
    db.session.commit()
    redemption.reverse_redemption(SYSTEM, done.id, "Prestazione non resa")
    voucher_service.suspend_voucher(SYSTEM, voucher, "In ospedale")
    voucher_service.reactivate_voucher(SYSTEM, voucher)
    competence.transfer(SYSTEM, voucher, f.FIESOLE["istat_code"], clock.today())
    voucher_service.revoke_voucher(SYSTEM, voucher, "Rinuncia")
    db.session.commit()

    story = caseload.timeline(SYSTEM, person)
    kinds = [e.kind for e in story.entries]
    assert kinds == [
        "revoked",
        "transferred",
        "reactivated",
        "suspended",
        "reversal",
        "redemption",
        "isee",  # the record with a DSU, entered after the issue
        "issued",
        "isee",  # the shortcut's record, at registration
        "registered",
    ]
    times = [e.at for e in story.entries]
    assert times == sorted(times, reverse=True) and not story.truncated
    by_kind = {e.kind: e for e in story.entries}
    assert (
        by_kind["redemption"].amount_cents == 4_000 and by_kind["reversal"].amount_cents == -4_000
    )
    assert by_kind["redemption"].provider == provider.name
    assert by_kind["transferred"].comune == "Fiesole"
    assert by_kind["issued"].voucher_code == voucher.code and by_kind["issued"].scheme == "Misura A"
    assert {e.voucher_id for e in story.entries if e.voucher_id} == {voucher.id}


def test_the_timeline_leaves_out_vouchers_out_of_reach(load):
    worker = f.make_user("social_worker")
    reach.set_team(SYSTEM, worker, [load.fiesole])
    competence.transfer(SYSTEM, load.v_anna, f.FIESOLE["istat_code"], clock.today())
    issuance.issue_voucher(SYSTEM, load.a, load.anna)  # charged to Firenze
    db.session.commit()
    story = caseload.timeline(f.actor(worker), load.anna)
    assert {e.voucher_code for e in story.entries if e.voucher_code} == {load.v_anna.code}
    assert len([e for e in caseload.timeline(SYSTEM, load.anna).entries if e.kind == "issued"]) == 2
