"""The redemption in one statement (PostgreSQL): lock and read the terms, judge, debit,
write the ledger row and its audit event, so that the accepted case is one round trip (in
autocommit, the statement is the whole transaction).

It accepts exactly what voucher.services.redemption.check_redemption() accepts, restated
as one SQL condition; tests/services/test_redemption_rules_agree.py checks that the two
agree on every combination of the terms. Anything it does not accept (a refusal, a replay,
a revoked key) writes nothing, and the caller asks the rules, on the ordinary path, for
the answer that is due. Its plan is checked on a ledger of a million rows
(tests/ops/test_postgresql_plans.py).
"""

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Numeric,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)

from ..models import AuditEvent, LedgerEntry, Voucher
from . import Actor
from .redemption_sql import Redemption, Terms, forget_stale_voucher, terms_query

_LEDGER = LedgerEntry.__table__
_VOUCHERS = Voucher.__table__

_TERMS_LOCKED = terms_query(lock=True).cte("terms")
# Cast, so that the server knows their types also when they are null.
_AMOUNT = cast(bindparam("amount", type_=Integer()), Integer)
_QUANTITY = cast(bindparam("quantity", type_=Numeric(10, 2)), Numeric(10, 2))
_HOURS = cast(bindparam("hours", type_=Numeric(10, 2)), Numeric(10, 2))
_TODAY = bindparam("today", type_=Date())
_SERVICE_DATE = bindparam("service_date", type_=Date())
_MAX_CENTS = 2**31 - 1


def _one_statement():
    t = _TERMS_LOCKED.c
    cost = case(
        (_QUANTITY.is_(None), cast(_AMOUNT, BigInteger)),
        else_=cast(func.round(_QUANTITY * t.unit_price_cents), BigInteger),
    )
    priced = select(_TERMS_LOCKED, cost.label("cost")).cte("priced")
    p = priced.c
    # money.public_share(): half up, on non-negative integers
    public = (p.cost * p.coverage_percent + 50) // 100
    accepted = and_(
        p.key_valid,
        p.earlier_hash.is_(None),
        # check_voucher_usable()
        p.status.not_in(("revoked", "suspended", "expired", "exhausted")),
        p.valid_until >= _TODAY,
        p.valid_from <= _TODAY,
        p.balance_cents != 0,
        # the provider, the scheme's providers and services
        p.provider_status == "active",
        p.provider_accredited,
        p.provider_listed,
        p.service_in_scheme,
        # the service date
        _SERVICE_DATE <= _TODAY,
        p.valid_from <= _SERVICE_DATE,
        p.valid_until >= _SERVICE_DATE,
        # price(): an amount, or a quantity of a unit (never of euros) that costs something
        or_(
            and_(_QUANTITY.is_(None), _AMOUNT.is_not(None), _AMOUNT > 0),
            and_(
                _AMOUNT.is_(None),
                _QUANTITY > 0,
                p.unit != "EUR",
                p.unit_price_cents.is_not(None),
                p.cost >= 1,
                p.cost <= _MAX_CENTS,
            ),
        ),
        # hours_of(): only beside an amount in euros
        or_(_HOURS.is_(None), p.unit == "EUR"),
        or_(p.max_redemption_cents.is_(None), p.cost <= p.max_redemption_cents),
        p.coverage_percent.is_not(None),
        p.comune_id.is_not(None),
        public <= p.balance_cents,
    )
    ok = select(p.id, p.comune_id, p.cost, public.label("public")).where(accepted).cte("ok")
    remaining = _VOUCHERS.c.balance_cents - ok.c.public
    debited = (
        update(_VOUCHERS)
        .where(_VOUCHERS.c.id == ok.c.id, remaining >= 0)
        .values(
            balance_cents=remaining,
            status=case((remaining == 0, "exhausted"), else_=_VOUCHERS.c.status),
        )
        .returning(_VOUCHERS.c.id, _VOUCHERS.c.balance_cents)
        .cte("debited")
    )
    ledger_values = {
        "kind": literal("redemption"),
        "voucher_id": debited.c.id,
        "provider_id": bindparam("provider", type_=Integer()),
        "service_code": bindparam("service", type_=String()),
        "service_date": _SERVICE_DATE,
        "quantity": _QUANTITY,
        "hours": _HOURS,
        "amount_cents": ok.c.cost,
        "public_cents": ok.c.public,
        "copay_cents": ok.c.cost - ok.c.public,
        "balance_after_cents": debited.c.balance_cents,
        "idempotency_key": bindparam("key", type_=String()),
        "created_at": bindparam("created_at", type_=_LEDGER.c.created_at.type),
        "comune_id": ok.c.comune_id,
        "request_hash": bindparam("request_hash", type_=String()),
        "user_id": bindparam("user_id", type_=Integer()),
        "api_key_id": bindparam("api_key", type_=Integer()),
    }
    entry = (
        insert(_LEDGER)
        .from_select(
            list(ledger_values),
            select(*ledger_values.values()).select_from(ok.join(debited, debited.c.id == ok.c.id)),
        )
        .returning(
            _LEDGER.c.id,
            _LEDGER.c.amount_cents,
            _LEDGER.c.public_cents,
            _LEDGER.c.copay_cents,
            _LEDGER.c.balance_after_cents,
            _LEDGER.c.comune_id,
        )
        .cte("entry")
    )
    events = AuditEvent.__table__
    data = func.json_build_object(
        "entry_id", entry.c.id,
        "provider_id", bindparam("provider", type_=Integer()),
        "service", bindparam("service", type_=String()),
        "amount_cents", entry.c.amount_cents,
        "public_cents", entry.c.public_cents,
        "balance_cents", entry.c.balance_after_cents,
    )  # fmt: skip
    event_values = {
        "at": bindparam("at", type_=events.c.at.type),
        "actor_type": bindparam("actor_type", type_=String()),
        "actor_id": bindparam("actor_id", type_=Integer()),
        "actor_label": bindparam("actor_label", type_=String()),
        "action": literal("voucher.redeemed"),
        "object_type": literal("voucher"),
        "object_id": bindparam("voucher_code", type_=String()),
        "data": data,
    }
    event = (
        insert(events)
        .from_select(list(event_values), select(*event_values.values()).select_from(entry))
        .returning(events.c.id)
        .cte("event")
    )
    return select(
        *(_TERMS_LOCKED.c[f.name] for f in fields(Terms) if f.name != "next_entry_id"),
        entry.c.id.label("entry_id"),
        entry.c.amount_cents.label("entry_amount_cents"),
        entry.c.public_cents.label("entry_public_cents"),
        entry.c.copay_cents.label("entry_copay_cents"),
        entry.c.balance_after_cents.label("entry_balance_after_cents"),
        select(event.c.id).scalar_subquery().label("event_id"),
    ).select_from(_TERMS_LOCKED.outerjoin(entry, true()))


_ONE_STATEMENT = _one_statement()


@dataclass(frozen=True)
class Attempt:
    """What the one-statement redemption did: the redemption it recorded, or None (it
    wrote nothing), and the terms it read."""

    terms: Terms
    recorded: Redemption | None


def redeem_in_one_statement(
    connection,
    actor: Actor,
    *,
    code: str,
    provider_id: int,
    service_code: str,
    service_date: date,
    amount_cents: int | None,
    quantity: Decimal | None,
    hours: Decimal | None,
    idempotency_key: str,
    request_hash: str,
    today: date,
    created_at: datetime,
) -> Attempt | None:
    """PostgreSQL: the whole redemption in one statement, if the rules accept it (None
    when there is no such voucher). The caller has checked the request's own form (an
    amount or a quantity, positive, two decimals at most) and, in a transaction, that no
    event of it waits for the commit (audit.can_append_now()); it commits (and, in a
    session's transaction, calls audit.wrote_event())."""
    row = connection.execute(
        _ONE_STATEMENT,
        {
            "voucher_code": code,
            "service": service_code,
            "service_date": service_date,
            "provider": provider_id,
            "api_key": actor.api_key_id,
            "key": idempotency_key,
            "amount": amount_cents,
            "quantity": quantity,
            "hours": hours,
            "today": today,
            "created_at": created_at,
            "request_hash": request_hash,
            "user_id": actor.user_id,
            "at": datetime.now(UTC),
            "actor_type": actor.type,
            "actor_id": actor.id,
            "actor_label": actor.label,
        },
    ).first()
    if row is None:
        return None
    found = row._mapping
    terms = Terms(**{f.name: found[f.name] for f in fields(Terms) if f.name != "next_entry_id"})
    if found["entry_id"] is None:
        return Attempt(terms, None)
    forget_stale_voucher(terms.id)
    return Attempt(
        terms,
        Redemption(
            id=found["entry_id"],
            voucher_id=terms.id,
            voucher_code=code,
            provider_id=provider_id,
            service_code=service_code,
            service_date=service_date,
            quantity=quantity,
            amount_cents=found["entry_amount_cents"],
            public_cents=found["entry_public_cents"],
            copay_cents=found["entry_copay_cents"],
            balance_after_cents=found["entry_balance_after_cents"],
            idempotency_key=idempotency_key,
            created_at=created_at,
            comune_id=terms.comune_id,
            hours=hours,
        ),
    )
