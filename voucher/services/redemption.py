"""Redemptions and reversals: the only way money leaves a voucher or comes back.

A redemption locks the voucher row for the whole check-and-write, writes one immutable
ledger entry and lowers the balance in the same transaction. The database backs every
rule that money depends on: balance >= 0, one entry per (provider, idempotency key), one
reversal per redemption.
"""

import hashlib
import json
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import jwt
from sqlalchemy import Integer, Sequence, String, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import selectinload

from ..documents.signing import keyring
from ..errors import (
    AlreadyReversed,
    DomainError,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidSignature,
    NotAccredited,
    NotFound,
    OverRedemptionLimit,
    ServiceNotInScheme,
    Unauthorized,
    ValidationFailed,
    VoucherExhausted,
    VoucherExpired,
    VoucherNotFound,
    VoucherNotYetValid,
    VoucherRevoked,
    VoucherSuspended,
)
from ..extensions import db
from ..models import (
    Accreditation,
    ApiKey,
    LedgerEntry,
    Provider,
    Scheme,
    Voucher,
    scheme_service,
)
from ..models._base import utcnow
from . import Actor, audit, clock, codes
from .money import cost_of, format_euro, public_share

MAX_CENTS = 2**31 - 1


@dataclass(frozen=True)
class RedemptionRequest:
    """What a provider asks for; `voucher` is a code or a full signed QR payload."""

    voucher: str
    service_code: str
    service_date: date
    amount_cents: int | None = None
    quantity: Decimal | None = None

    def fingerprint(self, voucher_code: str) -> str:
        """What makes two requests "the same": the voucher they resolve to (however it was
        written: code, lowercase, QR payload), not its spelling."""
        body = {
            "voucher": voucher_code,
            "service_code": self.service_code,
            "service_date": self.service_date.isoformat(),
            "amount_cents": self.amount_cents,
            "quantity": None if self.quantity is None else str(Decimal(self.quantity).normalize()),
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def resolve_voucher_code(ref: str) -> str:
    """The voucher code in a typed code or a signed QR payload (whose signature is checked
    before anything else)."""
    ref = (ref or "").strip()
    if ref.count(".") == 2:
        try:
            claims = keyring().verify(ref)
        except jwt.InvalidTokenError:
            raise InvalidSignature(
                "Il QR code non è stato emesso dall'ente o è stato alterato."
            ) from None
        code = codes.normalise_code(str(claims.get("code", "")))
        if code is None:
            raise InvalidSignature("Il QR code non contiene un codice di buono valido.")
        return code
    code = codes.normalise_code(ref)
    if code is None:
        raise VoucherNotFound("Nessun buono con questo codice.")
    return code


_MAX_QUANTITY = Decimal(10) ** 8  # ledger_entry.quantity is NUMERIC(10, 2)


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
    coverage_percent: int
    unit: str
    unit_price_cents: int | None
    max_redemption_cents: int | None
    service_in_scheme: bool
    provider_status: str | None
    provider_accredited: bool
    key_valid: bool  # the API key the request came with is not revoked (true without one)
    # The request hash of the provider's earlier entry with the same idempotency key ("" if
    # it has none), or None: no such entry.
    earlier_hash: str | None
    # PostgreSQL, locked read: the id the ledger row will have, taken from its sequence
    # now so that the audit event can name it in the statement that writes both.
    next_entry_id: int | None = None


def _terms_query(*, lock: bool, next_entry_id: bool = False):
    """The voucher (by code) with its scheme's terms, the provider's standing, whether the
    API key is still valid and whether the idempotency key was used before; bound
    parameters: code, service, service_date, provider, api_key and key (None without
    them). Locked: only the voucher row, until the transaction ends, and read afresh after
    waiting for the lock. With next_entry_id (PostgreSQL), also the next ledger id."""
    service = bindparam("service")
    provider = bindparam("provider")
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
            Accreditation.covering(bindparam("service_date")),
        )
        .exists()
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
            Voucher.coverage_percent,
            Scheme.unit,
            Scheme.unit_price_cents,
            Scheme.max_redemption_cents,
            in_scheme.label("service_in_scheme"),
            status.label("provider_status"),
            accredited.label("provider_accredited"),
            key_valid.label("key_valid"),
            earlier_hash.label("earlier_hash"),
        )
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .where(Voucher.code == bindparam("code"))
    )
    if next_entry_id:
        query = query.add_columns(_LEDGER_ID_SEQUENCE.next_value().label("next_entry_id"))
    return query.with_for_update(of=Voucher.__table__) if lock else query


# Ids are never reused: one taken by a request that is then refused is a gap, as for any
# rolled-back insert.
_LEDGER_ID_SEQUENCE = Sequence("ledger_entry_id_seq")
# By (locked, with the next ledger id).
_TERMS = {
    (False, False): _terms_query(lock=False),
    (True, False): _terms_query(lock=True),
    (True, True): _terms_query(lock=True, next_entry_id=True),
}


def _session_connection():
    """The session's connection, with this session's pending changes (a voucher just
    suspended, say) flushed to it, so that they count."""
    db.session.flush()
    return db.session.connection()


def _read_terms(
    connection,
    code: str,
    provider_id: int,
    req: RedemptionRequest,
    *,
    lock: bool,
    api_key_id: int | None = None,
    idempotency_key: str | None = None,
    next_entry_id: bool = False,
) -> Terms:
    row = connection.execute(
        _TERMS[lock, next_entry_id],
        {
            "code": code,
            "service": req.service_code,
            "service_date": req.service_date,
            "provider": provider_id,
            "api_key": api_key_id,
            "key": idempotency_key,
        },
    ).first()
    if row is None:
        raise VoucherNotFound("Nessun buono con questo codice.")
    return Terms(**row._mapping)


def check_voucher_usable(voucher: Voucher | Terms, day: date) -> None:
    """The voucher's own state, in the order a provider at the door needs to hear it."""
    if voucher.status == "revoked":
        raise VoucherRevoked("Il buono è stato revocato.")
    if voucher.status == "suspended":
        raise VoucherSuspended("Il buono è sospeso: il beneficiario contatti il servizio sociale.")
    if voucher.status == "expired" or day > voucher.valid_until:
        raise VoucherExpired(f"Il buono è scaduto il {voucher.valid_until:%d/%m/%Y}.")
    if day < voucher.valid_from:
        raise VoucherNotYetValid(f"Il buono è valido dal {voucher.valid_from:%d/%m/%Y}.")
    if voucher.status == "exhausted" or voucher.balance_cents == 0:
        raise VoucherExhausted("Il buono non ha più credito.")


def price(terms: Terms, req: RedemptionRequest) -> tuple[int, int, int, Decimal | None]:
    """Cost, public share, co-payment and quantity of a service, without writing anything."""
    if (req.amount_cents is None) == (req.quantity is None):
        raise ValidationFailed(
            errors={"amount_cents": ["Indicare l'importo oppure la quantità, non entrambi."]}
        )
    quantity = None
    if req.quantity is not None:
        if terms.unit == "EUR":
            raise ValidationFailed(
                errors={"quantity": ["Questa misura è in euro: indicare l'importo."]}
            )
        try:
            quantity = Decimal(req.quantity)
        except InvalidOperation:
            raise ValidationFailed(errors={"quantity": ["Quantità non valida."]}) from None
        # Checked in this order so that NaN, infinities and huge values (which Decimal
        # refuses to compare or quantize) are a validation error, not a crash.
        if (
            not quantity.is_finite()
            or not 0 < quantity < _MAX_QUANTITY
            or quantity != quantity.quantize(Decimal("0.01"))
        ):
            raise ValidationFailed(
                errors={"quantity": ["La quantità è positiva, con al massimo due decimali."]}
            )
        cost = cost_of(quantity, terms.unit_price_cents)
        if cost > MAX_CENTS:  # the ledger's amounts are 32-bit integers
            raise ValidationFailed(errors={"quantity": ["Quantità troppo grande."]})
        if cost == 0:  # e.g. 0.01 units of a 20-cent unit: nothing to record
            raise ValidationFailed(
                errors={"quantity": ["La quantità indicata costa meno di un centesimo."]}
            )
    else:
        cost = req.amount_cents
        if cost <= 0:
            raise ValidationFailed(errors={"amount_cents": ["L'importo deve essere positivo."]})
    public = public_share(cost, terms.coverage_percent)
    return cost, public, cost - public, quantity


def check_redemption(
    terms: Terms, req: RedemptionRequest, day: date
) -> tuple[int, int, int, Decimal | None]:
    """Every rule a redemption must pass, in the order a provider needs to hear them; then
    its cost, public share, co-payment and quantity. Writes nothing."""
    check_voucher_usable(terms, day)
    if terms.provider_status != "active" or not terms.provider_accredited:
        raise NotAccredited(
            "Il fornitore non è accreditato per questo servizio alla data indicata"
            + (" (fornitore sospeso)." if terms.provider_status != "active" else ".")
        )
    if not terms.service_in_scheme:
        raise ServiceNotInScheme("Il servizio non è tra quelli pagati da questo buono.")
    if req.service_date > day:
        raise ValidationFailed(
            errors={"service_date": ["La data della prestazione non può essere nel futuro."]}
        )
    if not terms.valid_from <= req.service_date <= terms.valid_until:
        raise ValidationFailed(
            errors={"service_date": ["La data della prestazione è fuori dalla validità del buono."]}
        )
    cost, public, copay, quantity = price(terms, req)
    limit = terms.max_redemption_cents
    if limit is not None and cost > limit:
        raise OverRedemptionLimit(
            f"Il costo supera il limite di {format_euro(limit)} per prestazione."
        )
    if public > terms.balance_cents:
        raise InsufficientBalance(
            f"Credito insufficiente: disponibili {format_euro(terms.balance_cents)}."
        )
    return cost, public, copay, quantity


@dataclass(frozen=True)
class Quote:
    """What a redemption would cost and leave on the voucher."""

    cost_cents: int
    public_cents: int
    copay_cents: int
    quantity: Decimal | None
    balance_after_cents: int


def quote_redemption(
    provider: Provider, req: RedemptionRequest, *, day: date | None = None
) -> Quote:
    """The preview a provider confirms: checked exactly as redeem() checks, without locking
    or writing anything (redeem() checks again, under the lock)."""
    day = day or clock.today()
    code = resolve_voucher_code(req.voucher)
    terms = _read_terms(_session_connection(), code, provider.id, req, lock=False)
    cost, public, copay, quantity = check_redemption(terms, req, day)
    return Quote(cost, public, copay, quantity, terms.balance_cents - public)


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
    kind: str = "redemption"


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


def _debit_and_insert_statement(*, audited: bool = False):
    """PostgreSQL: the debit and the ledger row in one statement (one round trip while the
    voucher is locked), the row inserted only if the voucher row was updated. Audited: with
    the ledger row's id given, and its audit event appended to the chain in the same
    statement."""
    debited = _DEBIT.returning(_VOUCHERS.c.id).cte("debited")
    written = [name for name in _WRITTEN if name != "voucher_id"]
    values = [bindparam(name, type_=_LEDGER.c[name].type) for name in written]
    if audited:  # bound as entry_id: a parameter named like a column would join the UPDATEs
        written.append("id")
        values.append(bindparam("entry_id", type_=Integer()))
    rows = select(*values, debited.c.id).select_from(debited)
    entry = insert(_LEDGER).from_select([*written, "voucher_id"], rows).returning(_LEDGER.c.id)
    return audit.append_after(entry.cte("entry")) if audited else entry


_DEBIT_AND_INSERT = _debit_and_insert_statement()
_DEBIT_INSERT_AND_AUDIT = _debit_and_insert_statement(audited=True)


def _debit(voucher_id: int, balance: int, status: str) -> dict:
    """The parameters of _DEBIT."""
    return {"debit_voucher": voucher_id, "debit_balance": balance, "debit_status": status}


def _debit_and_insert(connection, balance: int, status: str, row: dict) -> int:
    """Lower the locked voucher's balance and write its ledger row; the row's id."""
    debit = _debit(row["voucher_id"], balance, status)
    if connection.dialect.name == "postgresql":
        return connection.execute(_DEBIT_AND_INSERT, {**row, **debit}).scalar_one()
    connection.execute(_DEBIT, debit)
    return connection.execute(_INSERT_ENTRY, row).scalar_one()


def _earlier(connection, provider_id: int, key: str, fingerprint: str) -> Redemption | None:
    """The provider's earlier redemption with this idempotency key (what a replay answers),
    or None; a conflict if it was asked with another body."""
    earlier = connection.execute(_EARLIER, {"provider": provider_id, "key": key}).first()
    if earlier is None:
        return None
    if earlier.request_hash != fingerprint:
        raise IdempotencyConflict(
            "Questa chiave di idempotenza è già stata usata per una richiesta diversa."
        )
    found = dict(earlier._mapping)
    del found["request_hash"]
    return Redemption(**found)


def redeem(
    actor: Actor,
    provider_id: int,
    req: RedemptionRequest,
    idempotency_key: str,
    *,
    day: date | None = None,
) -> tuple[Redemption, bool]:
    """Record a service delivered. Returns the redemption and whether it is a replay of an
    earlier request with the same idempotency key.

    The busiest path of the application, so it speaks SQL without the unit of work: lock
    and read, idempotency check included (one query), then the debit, the ledger row and
    the audit event (one statement on PostgreSQL; elsewhere the event is appended at
    commit)."""
    day = day or clock.today()
    code = resolve_voucher_code(req.voucher)
    # Statements go straight to the session's connection (the same transaction), past the
    # ORM's machinery that this path does not use.
    connection = _session_connection()
    # PostgreSQL, with no other event of this transaction waiting: the debit, the ledger
    # row and the audit event in one statement, the ledger id taken beforehand.
    in_one_statement = connection.dialect.name == "postgresql" and audit.can_append_now()
    terms = _read_terms(
        connection,
        code,
        provider_id,
        req,
        lock=True,
        api_key_id=actor.api_key_id,
        idempotency_key=idempotency_key,
        next_entry_id=in_one_statement,
    )
    if not terms.key_valid:
        # Checked here, in the transaction: a key revoked a moment ago moves no money, even
        # where a server process still trusts it for other requests.
        raise Unauthorized("La chiave API è stata revocata.")

    fingerprint = req.fingerprint(code)
    if terms.earlier_hash is not None:  # the ledger is append-only: it is still there
        return _earlier(connection, provider_id, idempotency_key, fingerprint), True
    try:
        cost, public, copay, quantity = check_redemption(terms, req, day)
    except DomainError:
        # The query above read the idempotency key as it was before this request waited
        # for the voucher's lock: a request with the same key may have been recorded
        # meanwhile (and spent the balance). Its answer, not a refusal, is due; asked
        # again now, after the lock. (Were this request accepted instead, the unique key
        # would refuse its INSERT, and run_in_transaction() would run it again.)
        earlier = _earlier(connection, provider_id, idempotency_key, fingerprint)
        if earlier is None:
            raise
        return earlier, True

    balance = terms.balance_cents - public
    status = "exhausted" if balance == 0 else terms.status
    recorded = Redemption(
        id=0,
        voucher_id=terms.id,
        voucher_code=code,
        provider_id=provider_id,
        service_code=req.service_code,
        service_date=req.service_date,
        quantity=quantity,
        amount_cents=cost,
        public_cents=public,
        copay_cents=copay,
        balance_after_cents=balance,
        idempotency_key=idempotency_key,
        created_at=utcnow(),
    )
    row = {name: getattr(recorded, name) for name in _LEDGER_VALUES}
    row.update(request_hash=fingerprint, user_id=actor.user_id, api_key_id=actor.api_key_id)
    event = {
        "provider_id": provider_id,
        "service": req.service_code,
        "amount_cents": cost,
        "public_cents": public,
        "balance_cents": balance,
    }
    if in_one_statement:
        entry_id = terms.next_entry_id
        audit.append_with(
            connection,
            _DEBIT_INSERT_AND_AUDIT,
            {**row, **_debit(terms.id, balance, status), "entry_id": entry_id},
            actor,
            "voucher.redeemed",
            "voucher",
            code,
            entry_id=entry_id,
            **event,
        )
    else:
        entry_id = _debit_and_insert(connection, balance, status, row)
        audit.record(actor, "voucher.redeemed", "voucher", code, entry_id=entry_id, **event)
    recorded = replace(recorded, id=entry_id)
    _forget_stale_voucher(terms.id)
    return recorded, False


def _forget_stale_voucher(voucher_id: int) -> None:
    """A Voucher object this session already holds no longer has the current balance and
    status: expire them, so that the next read fetches them."""
    held = db.session.identity_map.get(db.session.identity_key(Voucher, voucher_id))
    if held is not None:
        db.session.expire(held, ["balance_cents", "status"])


def reverse_redemption(actor: Actor, entry_id: int, reason: str) -> LedgerEntry:
    """Compensate a wrong redemption with a negated entry; the balance comes back."""
    original = db.session.get(LedgerEntry, entry_id)
    if original is None:
        raise NotFound("Riscatto non trovato.")
    if original.kind != "redemption":
        raise ValidationFailed(errors={"id": ["Si può stornare solo un riscatto."]})
    voucher = db.session.execute(
        select(Voucher)
        .where(Voucher.id == original.voucher_id)
        .with_for_update()
        .execution_options(populate_existing=True)  # read afresh once locked
    ).scalar_one()
    already = db.session.execute(
        select(LedgerEntry.id).where(LedgerEntry.reverses_id == original.id)
    ).first()
    if already:
        raise AlreadyReversed("Questo riscatto è già stato stornato.")
    if not (reason or "").strip():
        raise ValidationFailed(errors={"reason": ["Indicare il motivo dello storno."]})
    voucher.balance_cents += original.public_cents
    if voucher.status == "exhausted" and voucher.balance_cents > 0:
        voucher.status = "active"
    reversal = LedgerEntry(
        kind="reversal",
        voucher_id=voucher.id,
        provider_id=original.provider_id,
        service_code=original.service_code,
        service_date=original.service_date,
        quantity=None if original.quantity is None else -original.quantity,
        amount_cents=-original.amount_cents,
        public_cents=-original.public_cents,
        copay_cents=-original.copay_cents,
        balance_after_cents=voucher.balance_cents,
        reverses_id=original.id,
        reason=reason.strip(),
        user_id=actor.user_id,
    )
    db.session.add(reversal)
    db.session.flush()
    audit.record(
        actor,
        "voucher.redemption_reversed",
        "voucher",
        voucher.code,
        entry_id=reversal.id,
        reverses=original.id,
        public_cents=original.public_cents,
        reason=reason.strip(),
        balance_cents=voucher.balance_cents,
    )
    return reversal


def ledger_for_voucher(voucher: Voucher) -> list[LedgerEntry]:
    return list(
        db.session.execute(
            select(LedgerEntry).where(LedgerEntry.voucher_id == voucher.id).order_by(LedgerEntry.id)
        ).scalars()
    )


def list_ledger(
    *,
    voucher_code: str | None = None,
    provider_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[LedgerEntry]:
    """Ledger entries matching every given filter (service dates inclusive), by id. A
    voucher code that cannot exist matches nothing."""
    query = select(LedgerEntry).options(selectinload(LedgerEntry.voucher))
    if voucher_code is not None:
        code = codes.normalise_code(voucher_code)
        if code is None:
            return []
        query = query.join(Voucher, Voucher.id == LedgerEntry.voucher_id).where(
            Voucher.code == code
        )
    if provider_id is not None:
        query = query.where(LedgerEntry.provider_id == provider_id)
    if date_from is not None:
        query = query.where(LedgerEntry.service_date >= date_from)
    if date_to is not None:
        query = query.where(LedgerEntry.service_date <= date_to)
    if after_id is not None:
        query = query.where(LedgerEntry.id > after_id)
    query = query.order_by(LedgerEntry.id)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())
