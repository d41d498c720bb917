"""The redemption's SQL fast path agrees with a plain ORM version of its contract: the same
sequences of redemptions, run through the one-statement redemption (PostgreSQL) and
record_redemption() and through the reference below, leave the same balances, statuses,
ledger rows and audit events (on every backend)."""

from dataclasses import asdict, replace
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.services.world import DAY, make_world, provider_actor
from voucher.errors import DomainError
from voucher.extensions import db
from voucher.models import AuditEvent, LedgerEntry, Voucher
from voucher.services import SYSTEM, audit, audit_verify, redemption
from voucher.services.money import public_share
from voucher.services.redemption import RedemptionRequest


def use_the_reference(monkeypatch, writer=None):
    """Every accepted redemption written by the plain reference: the one-statement path
    records nothing, and record_redemption() is the reference."""
    monkeypatch.setattr(redemption, "redeem_in_one", lambda *args, **kwargs: None)
    monkeypatch.setattr(redemption, "record_redemption", writer or reference_record_redemption)


def reference_record_redemption(connection, actor, terms, entry, request_hash):
    """record_redemption() as plain ORM code: lock the voucher, lower its balance by the
    public share (exhausted at zero), insert the ledger row, audit it."""
    voucher = db.session.execute(
        select(Voucher)
        .where(Voucher.id == terms.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    voucher.balance_cents -= entry.public_cents
    if voucher.balance_cents == 0:
        voucher.status = "exhausted"
    row = LedgerEntry(
        kind="redemption",
        voucher_id=voucher.id,
        provider_id=entry.provider_id,
        service_code=entry.service_code,
        service_date=entry.service_date,
        quantity=entry.quantity,
        hours=entry.hours,
        comune_id=entry.comune_id,
        amount_cents=entry.amount_cents,
        public_cents=entry.public_cents,
        copay_cents=entry.copay_cents,
        balance_after_cents=voucher.balance_cents,
        idempotency_key=entry.idempotency_key,
        request_hash=request_hash,
        user_id=actor.user_id,
        api_key_id=actor.api_key_id,
        created_at=entry.created_at,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor,
        "voucher.redeemed",
        "voucher",
        voucher.code,
        entry_id=row.id,
        provider_id=entry.provider_id,
        service=entry.service_code,
        amount_cents=entry.amount_cents,
        public_cents=entry.public_cents,
        balance_cents=voucher.balance_cents,
    )
    return replace(entry, id=row.id, balance_after_cents=voucher.balance_cents)


# Steps: ("redeem", key, amount or quantity), ("exhaust", key): the amount whose public
# share is the balance left, ("note", key, amount): a redemption in a transaction that has
# an audit event waiting already, ("reverse", key): reverse that key's redemption.
SEQUENCE = [
    ("redeem", "k1", Decimal("3")),
    ("redeem", "k2", 10_000),
    ("redeem", "k1", Decimal("3")),  # replayed
    ("note", "k3", 5_000),
    ("redeem", "k4", Decimal("1.25")),
    ("exhaust", "k5"),
    ("redeem", "k6", 1),  # refused: exhausted
    ("redeem", "k5", None),  # replayed after the voucher is exhausted
    ("reverse", "k2"),
    ("redeem", "k7", Decimal("2.5")),
    ("note", "k8", 700),
    ("exhaust", "k9"),
    ("redeem", "k2", 10_000),  # replayed although reversed
]

SCHEMES = {
    "full": {},
    "copay": {
        "unit_price_cents": 2_333,
        "copay_bands": [{"isee_max_cents": 5_000_000, "coverage_percent": 70}],
    },
}


def _request(voucher, amount) -> RedemptionRequest:
    quantity = amount if isinstance(amount, Decimal) else None
    return RedemptionRequest(
        voucher=voucher.code,
        service_code="A1",
        service_date=DAY,
        amount_cents=None if quantity is not None else amount,
        quantity=quantity,
    )


def _amount_to_exhaust(voucher) -> int:
    """The smallest cost whose public share is exactly the balance left."""
    db.session.refresh(voucher)
    cost = voucher.balance_cents
    while public_share(cost, voucher.coverage_percent) < voucher.balance_cents:
        cost += 1
    return cost


def _run(world, voucher, prefix: str) -> dict:
    """SEQUENCE on `voucher`, its keys prefixed; what each step answered, and what it left."""
    provider, actor = world.provider, provider_actor(world.provider)
    answers, ids, hashes, requests = [], {}, {}, {}
    for step, key, *amount in SEQUENCE:
        if step == "reverse":
            reversal = redemption.reverse_redemption(SYSTEM, ids[key], "errore di battitura")
            db.session.commit()
            answers.append(("reversed", reversal.balance_after_cents))
            continue
        if step == "exhaust":
            amount = [_amount_to_exhaust(voucher)]
        if amount[0] is not None:
            requests[key] = _request(voucher, amount[0])
        hashes[requests[key].fingerprint(voucher.code)] = key
        if step == "note":
            audit.record(SYSTEM, "note.added", "note", f"{prefix}{key}")
        try:
            entry, replayed = redemption.redeem(
                actor, provider.id, requests[key], f"{prefix}{key}", day=DAY
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            answers.append(("refused", error.code))
            continue
        ids.setdefault(key, entry.id)
        fields = asdict(entry)
        for name in ("id", "voucher_id", "voucher_code", "created_at"):
            del fields[name]
        fields["idempotency_key"] = fields["idempotency_key"].removeprefix(prefix)
        answers.append(("replayed" if replayed else "recorded", fields))

    db.session.expire_all()
    keys = {entry_id: key for key, entry_id in ids.items()}
    rows = db.session.execute(
        select(LedgerEntry).where(LedgerEntry.voucher_id == voucher.id).order_by(LedgerEntry.id)
    ).scalars()
    ledger = []
    for row in rows:
        columns = {c.key: getattr(row, c.key) for c in LedgerEntry.__table__.columns}
        for name in ("id", "voucher_id", "created_at"):
            del columns[name]
        columns["idempotency_key"] = (row.idempotency_key or "").removeprefix(prefix)
        columns["request_hash"] = hashes.get(row.request_hash, row.request_hash)
        columns["reverses_id"] = keys.get(row.reverses_id)
        columns["entry"] = keys.get(row.id)
        ledger.append(columns)
    events = db.session.execute(
        select(AuditEvent)
        .where(
            AuditEvent.object_id == voucher.code,
            AuditEvent.action.in_(["voucher.redeemed", "voucher.redemption_reversed"]),
        )
        .order_by(AuditEvent.seq)
    ).scalars()
    audited = []
    for event in events:
        data = dict(event.data)
        data["entry_id"] = keys.get(data["entry_id"], "reversal")
        if "reverses" in data:
            data["reverses"] = keys.get(data["reverses"])
        audited.append((event.action, event.actor_type, event.actor_id, event.actor_label, data))
    notes = db.session.execute(
        select(AuditEvent.object_id).where(AuditEvent.object_id.startswith(prefix))
    ).scalars()
    fresh = db.session.get(Voucher, voucher.id)
    return {
        "answers": answers,
        "voucher": (fresh.balance_cents, fresh.status),
        "ledger": ledger,
        "events": audited,
        "notes": sorted(note.removeprefix(prefix) for note in notes),
    }


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_the_fast_path_agrees_with_the_plain_reference(app, monkeypatch, scheme):
    world = make_world(**SCHEMES[scheme])
    fast = _run(world, world.voucher, "fast-")
    other, _pin = world.issue(person=f.make_beneficiary())
    use_the_reference(monkeypatch)
    plain = _run(world, other, "plain-")

    assert fast == plain
    # The sequence did what it says: replays, a refusal, exhausted twice, active between.
    kinds = [answer[0] for answer in fast["answers"]]
    assert kinds.count("replayed") == 3 and ("refused", "voucher_exhausted") in fast["answers"]
    assert fast["voucher"] == (0, "exhausted")
    assert [row["balance_after_cents"] for row in fast["ledger"]].count(0) == 2
    assert len(fast["events"]) == len(fast["ledger"]) == 9
    assert fast["notes"] == ["k3", "k8"]
    assert audit_verify.verify_chain().ok


def test_the_reference_is_what_runs_when_patched(app, monkeypatch):
    """The agreement above compares two different writers, not one with itself."""
    calls = count()

    def counting(*args):
        next(calls)
        return reference_record_redemption(*args)

    world = make_world()
    use_the_reference(monkeypatch, counting)
    world.redeem(1_000)
    assert next(calls) == 1


def test_an_accepted_redemption_is_one_statement_and_a_refusal_writes_nothing(app, monkeypatch):
    """PostgreSQL: lock, judge, debit, ledger row and audit event in one statement; a
    refused request goes on to the ordinary path, which names the reason (as SQLite's
    path does for every request)."""
    world = make_world()
    db.session.commit()
    actor, provider_id = provider_actor(world.provider), world.provider.id
    accepted, refused = _request(world.voucher, 700), _request(world.voucher, 10**9)
    statements = []
    if db.engine.dialect.name == "postgresql":  # every statement, the ORM's or not
        import psycopg

        execute = psycopg.Cursor.execute

        def counting(cursor, query, *args, **kwargs):
            statements.append(str(query))
            return execute(cursor, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    entry, replayed = redemption.redeem(actor, provider_id, accepted, "uno", day=DAY)
    one = list(statements)
    statements.clear()
    with pytest.raises(DomainError, match="Credito insufficiente"):
        redemption.redeem(actor, provider_id, refused, "due", day=DAY)
    two = list(statements)
    monkeypatch.undo()
    assert not replayed and entry.amount_cents == 700
    if db.engine.dialect.name == "postgresql":
        assert len(one) == 1 and "INSERT INTO audit_event" in one[0]
        assert len(two) >= 2 and "INSERT INTO ledger_entry" in two[0]
    db.session.rollback()
    assert db.session.execute(select(LedgerEntry.idempotency_key)).scalars().all() == []
    entry, _ = redemption.redeem(actor, provider_id, accepted, "uno", day=DAY)
    db.session.commit()
    assert db.session.execute(select(LedgerEntry.idempotency_key)).scalars().all() == ["uno"]


def test_the_one_statement_stays_within_the_drivers_query_cache():
    """psycopg converts the placeholders of a query longer than 4 KB afresh at every run
    (about a millisecond of CPU for this one): the statement must stay within it."""
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH
    from sqlalchemy.dialects import postgresql

    from voucher.services.redemption_at_once import _DRIVER_SQL, _ONE_STATEMENT, planned_sql

    compiled = str(_ONE_STATEMENT.compile(dialect=postgresql.dialect(paramstyle="pyformat")))
    assert compiled == _DRIVER_SQL
    assert len(planned_sql().encode()) + 8 <= MAX_CACHED_STATEMENT_LENGTH  # room for years
