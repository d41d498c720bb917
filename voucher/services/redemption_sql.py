"""The redemption's hand-tuned SQL: the busiest path of the application, so it speaks SQL
past the unit of work.

Reads are single queries: lock_terms() locks the voucher and reads everything the rules
need, idempotency key included (read_terms() is the same, unlocked, for a quote);
earlier_redemption() finds what a replay answers. Writes are fenced behind one plain
function, record_redemption(): on PostgreSQL one statement debits the voucher and writes
the ledger row, whose audit event is written at commit. This is the ordinary path; the
accepted case usually never reaches it on PostgreSQL (voucher.services.redemption_at_once
records it in one statement). The rules live in voucher.services.redemption_rules;
tests/services/test_redemption_sql.py holds a plain ORM version of record_redemption()
that must agree with this one.
"""

from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Integer, String, bindparam, func, insert, or_, select, update

from ..errors import VoucherNotFound
from ..extensions import db
from ..models import (
    Accreditation,
    ApiKey,
    LedgerEntry,
    Provider,
    Scheme,
    Voucher,
    scheme_provider,
    scheme_service,
)
from . import Actor, audit
from .competence import comune_on_expression
from .coverage import coverage_on_expression


@dataclass(frozen=True)
class Terms:
    """What the rules need to know to judge one redemption: the voucher, its scheme's terms
    and the provider's standing for the service on the service date, read in one query."""

    id: int
    code: str
    status: str
    valid_from: date
    valid_until: date
    balance_cents: int
    coverage_percent: int  # on the service date (an ISEE renewal may change it)
    comune_id: int  # of competence on the service date
    unit: str
    unit_price_cents: int | None
    max_redemption_cents: int | None
    service_in_scheme: bool
    provider_status: str | None
    provider_accredited: bool
    provider_listed: bool  # the scheme lists no provider, or lists this one
    key_valid: bool  # the API key the request came with is not revoked (true without one)
    # The request hash of the provider's earlier entry with the same idempotency key ("" if
    # it has none), or None: no such entry.
    earlier_hash: str | None


@dataclass(frozen=True)
class Redemption:
    """A ledger entry of kind "redemption", as recorded (or found again, for a replay)."""

    id: int
    voucher_id: int
    voucher_code: str
    provider_id: int
    service_code: str
    service_date: date
    quantity: Decimal | None
    amount_cents: int
    public_cents: int
    copay_cents: int
    balance_after_cents: int
    idempotency_key: str
    created_at: datetime
    comune_id: int
    kind: str = "redemption"
    hours: Decimal | None = None


def terms_query(*, lock: bool):
    """The voucher (by code) with its scheme's terms, the provider's standing (accredited,
    and among the providers the scheme is limited to, if any), whether the API key is still
    valid and whether the idempotency key was used before; bound parameters: voucher_code, service,
    service_date, provider, api_key and key (None without them). Locked: only the voucher
    row, until the transaction ends, and read afresh after waiting for the lock."""
    service = bindparam("service")
    provider = bindparam("provider")
    service_date = bindparam("service_date", type_=Date())
    in_scheme = (
        select(scheme_service.c.service_code)
        .where(
            scheme_service.c.scheme_id == Voucher.scheme_id,
            scheme_service.c.service_code == service,
        )
        .exists()
    )
    accredited = (
        select(Accreditation.id)
        .where(
            Accreditation.provider_id == provider,
            Accreditation.service_code == service,
            Accreditation.covering(service_date),
        )
        .exists()
    )
    # A scheme limited to chosen providers (scheme_provider) is open only to them.
    listed = select(scheme_provider.c.provider_id).where(
        scheme_provider.c.scheme_id == Voucher.scheme_id
    )
    provider_listed = or_(
        ~listed.exists(), listed.where(scheme_provider.c.provider_id == provider).exists()
    )
    status = select(Provider.status).where(Provider.id == provider).scalar_subquery()
    api_key = bindparam("api_key", type_=Integer())
    key_valid = or_(
        api_key.is_(None),
        select(ApiKey.id).where(ApiKey.id == api_key, ApiKey.revoked_at.is_(None)).exists(),
    )
    earlier_hash = (
        select(func.coalesce(LedgerEntry.request_hash, ""))
        .where(
            LedgerEntry.provider_id == provider,
            LedgerEntry.idempotency_key == bindparam("key", type_=String()),
        )
        .scalar_subquery()
    )
    query = (
        select(
            Voucher.id,
            Voucher.code,
            Voucher.status,
            Voucher.valid_from,
            Voucher.valid_until,
            Voucher.balance_cents,
            coverage_on_expression(Voucher.id, service_date).label("coverage_percent"),
            comune_on_expression(Voucher.id, service_date).label("comune_id"),
            Scheme.unit,
            Scheme.unit_price_cents,
            Scheme.max_redemption_cents,
            in_scheme.label("service_in_scheme"),
            status.label("provider_status"),
            accredited.label("provider_accredited"),
            provider_listed.label("provider_listed"),
            key_valid.label("key_valid"),
            earlier_hash.label("earlier_hash"),
        )
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        # Not "code": a parameter named like a voucher column would join the debit's UPDATE.
        .where(Voucher.code == bindparam("voucher_code"))
    )
    return query.with_for_update(of=Voucher.__table__) if lock else query


# By whether the voucher is locked.
_TERMS = {False: terms_query(lock=False), True: terms_query(lock=True)}


def session_connection():
    """The session's connection, with this session's pending changes (a voucher just
    suspended, say) flushed to it, so that they count. Statements go straight to it (the
    same transaction), past the ORM's machinery that this path does not use."""
    db.session.flush()
    return db.session.connection()


def read_terms(
    connection,
    code: str,
    provider_id: int,
    service_code: str,
    service_date: date,
    *,
    lock: bool = False,
    api_key_id: int | None = None,
    idempotency_key: str | None = None,
) -> Terms:
    """The Terms of a redemption of voucher `code` (VoucherNotFound without one)."""
    row = connection.execute(
        _TERMS[lock],
        {
            "voucher_code": code,
            "service": service_code,
            "service_date": service_date,
            "provider": provider_id,
            "api_key": api_key_id,
            "key": idempotency_key,
        },
    ).first()
    if row is None:
        raise VoucherNotFound("Nessun buono con questo codice.")
    return Terms(**row._mapping)


def lock_terms(
    connection,
    code: str,
    provider_id: int,
    service_code: str,
    service_date: date,
    api_key_id: int | None,
    idempotency_key: str,
) -> Terms:
    """The Terms of a redemption, the voucher row locked until the transaction ends: what
    record_redemption() needs."""
    return read_terms(
        connection,
        code,
        provider_id,
        service_code,
        service_date,
        lock=True,
        api_key_id=api_key_id,
        idempotency_key=idempotency_key,
    )


_LEDGER = LedgerEntry.__table__
# The fields of a Redemption that are columns of its ledger row.
_LEDGER_VALUES = tuple(f.name for f in fields(Redemption) if f.name not in ("id", "voucher_code"))
# The earlier redemption with the same key: what a replay answers, and the hash it must match.
_EARLIER = (
    select(
        LedgerEntry.id,
        Voucher.code.label("voucher_code"),
        *(_LEDGER.c[name] for name in _LEDGER_VALUES),
        func.coalesce(LedgerEntry.request_hash, "").label("request_hash"),
    )
    .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
    .where(
        LedgerEntry.provider_id == bindparam("provider"),
        LedgerEntry.idempotency_key == bindparam("key"),
    )
)
_VOUCHERS = Voucher.__table__
# The ledger row's columns, as written by a redemption: its fields, then the request's.
_WRITTEN = (*_LEDGER_VALUES, "request_hash", "user_id", "api_key_id")
# Debit the voucher: its new balance and status (exhausted at zero).
_DEBIT = (
    update(_VOUCHERS)
    .where(_VOUCHERS.c.id == bindparam("debit_voucher"))
    .values(balance_cents=bindparam("debit_balance"), status=bindparam("debit_status"))
)
_INSERT_ENTRY = insert(_LEDGER).returning(_LEDGER.c.id)


def _bound(name: str) -> str:
    """The parameter that carries a ledger column in the one-statement debit and insert: a
    parameter named like a voucher column (comune_id) would join the voucher's UPDATE."""
    return f"entry_{name}" if name in _VOUCHERS.c else name


def _bound_row(row: dict) -> dict:
    return {_bound(name): value for name, value in row.items()}


def _debit_and_insert_statement():
    """PostgreSQL: the debit and the ledger row in one statement (one round trip while the
    voucher is locked), the row inserted only if the voucher row was updated."""
    debited = _DEBIT.returning(_VOUCHERS.c.id).cte("debited")
    written = [name for name in _WRITTEN if name != "voucher_id"]
    values = [bindparam(_bound(name), type_=_LEDGER.c[name].type) for name in written]
    rows = select(*values, debited.c.id).select_from(debited)
    return insert(_LEDGER).from_select([*written, "voucher_id"], rows).returning(_LEDGER.c.id)


_DEBIT_AND_INSERT = _debit_and_insert_statement()


def _debit(voucher_id: int, balance: int, status: str) -> dict:
    """The parameters of _DEBIT."""
    return {"debit_voucher": voucher_id, "debit_balance": balance, "debit_status": status}


def _debit_and_insert(connection, balance: int, status: str, row: dict) -> int:
    """Lower the locked voucher's balance and write its ledger row; the row's id."""
    debit = _debit(row["voucher_id"], balance, status)
    if connection.dialect.name == "postgresql":
        return connection.execute(_DEBIT_AND_INSERT, {**_bound_row(row), **debit}).scalar_one()
    connection.execute(_DEBIT, debit)
    return connection.execute(_INSERT_ENTRY, row).scalar_one()


def earlier_redemption(connection, provider_id: int, key: str) -> tuple[Redemption, str] | None:
    """The provider's earlier redemption with this idempotency key and the hash of the
    request that made it ("" if none was kept), or None."""
    earlier = connection.execute(_EARLIER, {"provider": provider_id, "key": key}).first()
    if earlier is None:
        return None
    found = dict(earlier._mapping)
    request_hash = found.pop("request_hash")
    return Redemption(**found), request_hash


def record_redemption(
    connection, actor: Actor, terms: Terms, entry: Redemption, request_hash: str
) -> Redemption:
    """Write a redemption the rules accepted, its voucher locked by lock_terms(): the
    voucher's balance becomes entry.balance_after_cents (status exhausted at zero), the
    ledger row is inserted and the "voucher.redeemed" event audited (written at commit).
    Checks nothing; returns `entry` with the row's id."""
    balance = entry.balance_after_cents
    status = "exhausted" if balance == 0 else terms.status
    row = {name: getattr(entry, name) for name in _LEDGER_VALUES}
    row.update(request_hash=request_hash, user_id=actor.user_id, api_key_id=actor.api_key_id)
    event = {
        "provider_id": entry.provider_id,
        "service": entry.service_code,
        "amount_cents": entry.amount_cents,
        "public_cents": entry.public_cents,
        "balance_cents": balance,
    }
    entry_id = _debit_and_insert(connection, balance, status, row)
    audit.record(
        actor, "voucher.redeemed", "voucher", entry.voucher_code, entry_id=entry_id, **event
    )
    forget_stale_voucher(terms.id)
    return replace(entry, id=entry_id)


def forget_stale_voucher(voucher_id: int) -> None:
    """A Voucher object this session already holds no longer has the current balance and
    status: expire them, so that the next read fetches them."""
    held = db.session.identity_map.get(db.session.identity_key(Voucher, voucher_id))
    if held is not None:
        db.session.expire(held, ["balance_cents", "status"])
