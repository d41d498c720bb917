"""Bulk issuance: a file of codici fiscali, a dry run row by row, a confirmation, then the
vouchers issued chunk by chunk (see voucher.jobs), with one PDF of letters for the batch.

The PINs exist only in the letters: each chunk's letters are rendered while its PINs are in
memory and stored with that chunk's vouchers, in the same transaction.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload, undefer

from ..errors import Conflict, DomainError, NotFound, SchemeNotActive, ValidationFailed
from ..extensions import db
from ..models import (
    Beneficiary,
    IssueBatch,
    IssueBatchDocument,
    IssueBatchRow,
    Scheme,
    User,
    Voucher,
)
from . import SYSTEM, Actor, audit, clock
from .batch_files import MAX_ROWS, UploadedRow, merge_pdfs, read_rows
from .identifiers import parse_fiscal_code
from .money import format_euro
from .schemes import committed_cents
from .users import actor_for
from .vouchers import (
    ACTIVE_STATUSES,
    RuleResult,
    active_vouchers_count,
    check_eligibility,
    issue_voucher,
)

_LOOKUP_CHUNK = 500

# Why a row is refused; the code is stored, the message is shown.
REASONS = {
    "missing_fiscal_code": "Codice fiscale mancante",
    "invalid_fiscal_code": "Codice fiscale non valido",
    "duplicate_row": "Riga ripetuta",
    "unknown_beneficiary": "Beneficiario non registrato",
    "not_eligible": "Requisiti non soddisfatti",
    "limit_reached": "Limite di buoni attivi raggiunto",
    "budget_exceeded": "Budget esaurito",
    "scheme_not_active": "Misura non attiva",
}


@dataclass(frozen=True)
class PlannedRow:
    line: int
    fiscal_code: str
    note: str | None
    beneficiary_id: int | None
    outcome: str  # "issue" | "refused"
    reason: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class BudgetEffect:
    budget_cents: int
    committed_cents: int
    batch_cents: int  # what the batch still has to issue, at face value

    @property
    def available_cents(self) -> int:
        return max(0, self.budget_cents - self.committed_cents)

    @property
    def remaining_after_cents(self) -> int:
        return self.budget_cents - self.committed_cents - self.batch_cents

    @property
    def fits(self) -> bool:
        return self.remaining_after_cents >= 0


# The dry run


def _check_scheme_active(scheme: Scheme, day: date) -> None:
    if scheme.status != "active" or day > scheme.valid_until:
        raise SchemeNotActive(f"La misura «{scheme.name}» non è attiva.")


def _normalise_code(text: str) -> str:
    return "".join((text or "").split()).upper()


def _beneficiaries_by_code(codes: list[str]) -> dict[str, Beneficiary]:
    found: dict[str, Beneficiary] = {}
    for start in range(0, len(codes), _LOOKUP_CHUNK):
        chunk = codes[start : start + _LOOKUP_CHUNK]
        for person in db.session.execute(
            select(Beneficiary).where(Beneficiary.fiscal_code.in_(chunk))
        ).scalars():
            found[person.fiscal_code] = person
    return found


def _active_counts(scheme: Scheme, ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start : start + _LOOKUP_CHUNK]
        for person_id, count in db.session.execute(
            select(Voucher.beneficiary_id, func.count())
            .where(
                Voucher.scheme_id == scheme.id,
                Voucher.beneficiary_id.in_(chunk),
                Voucher.status.in_(ACTIVE_STATUSES),
            )
            .group_by(Voucher.beneficiary_id)
        ):
            counts[person_id] = count
    return counts


# Every check issue_voucher makes, as a list: for the issue page and for the dry run.
# The rule that fails decides the refusal code, as issue_voucher would raise it.
_REASON_BY_RULE = {
    "scheme_active": "scheme_not_active",
    "max_active": "limit_reached",
    "budget": "budget_exceeded",
}


def issuance_checks(
    scheme: Scheme,
    person: Beneficiary,
    day: date | None = None,
    *,
    active_count: int | None = None,
    committed: int | None = None,
) -> list[RuleResult]:
    """The scheme's state, the eligibility rules, the active-voucher limit and the budget,
    each with its outcome in plain Italian. `committed` may include vouchers not yet issued
    (the rows above in a file)."""
    day = day or clock.today()
    active = scheme.status == "active" and day <= scheme.valid_until
    results = [
        RuleResult(
            "scheme_active",
            active,
            "Misura attiva" if active else f"La misura «{scheme.name}» non è attiva",
        )
    ]
    results += check_eligibility(scheme, person, day)
    limit = scheme.max_active_per_beneficiary
    if limit is not None:
        count = active_vouchers_count(scheme, person) if active_count is None else active_count
        results.append(
            RuleResult(
                "max_active",
                count < limit,
                f"Buoni attivi per questa misura: {count} su un massimo di {limit}",
            )
        )
    committed = committed_cents(scheme.id) if committed is None else committed
    left = scheme.budget_cents - committed
    results.append(
        RuleResult(
            "budget",
            scheme.face_value_cents <= left,
            f"Budget residuo {format_euro(max(left, 0))}, "
            f"il buono ne impegna {format_euro(scheme.face_value_cents)}",
        )
    )
    return results


def refusal_of(results: list[RuleResult]) -> tuple[str, str] | None:
    """The refusal code and message of the first failed check (None when all pass)."""
    failed = next((r for r in results if not r.ok), None)
    if failed is None:
        return None
    return _REASON_BY_RULE.get(failed.rule, "not_eligible"), failed.message + "."


def dry_run(scheme: Scheme, rows: list[UploadedRow], day: date | None = None) -> list[PlannedRow]:
    """What issuing each row would do, in file order, without writing anything: the budget
    counts the rows above as already issued."""
    day = day or clock.today()
    _check_scheme_active(scheme, day)
    codes = [_normalise_code(r.fiscal_code) for r in rows]
    people = _beneficiaries_by_code(sorted(set(codes)))
    active = _active_counts(scheme, [p.id for p in people.values()])
    committed = committed_cents(scheme.id)
    seen: dict[str, int] = {}
    result = []
    for row, code in zip(rows, codes, strict=True):
        person = people.get(code)
        refusal = None
        if not code:
            refusal = "missing_fiscal_code", "La riga non ha un codice fiscale."
        elif not _valid_fiscal_code(code):
            refusal = "invalid_fiscal_code", "Il codice fiscale non è valido."
        elif code in seen:
            refusal = "duplicate_row", f"Stesso codice fiscale della riga {seen[code]}."
        elif person is None:
            refusal = "unknown_beneficiary", "Nessun beneficiario registrato con questo codice."
        else:
            refusal = refusal_of(
                issuance_checks(
                    scheme, person, day, active_count=active.get(person.id, 0), committed=committed
                )
            )
            if refusal and refusal[0] == "budget_exceeded":
                refusal = (
                    "budget_exceeded",
                    "Il budget residuo della misura, tolte le righe precedenti del file, "
                    "non basta per questo buono.",
                )
        if code and code not in seen:
            seen[code] = row.line
        person_id = person.id if person is not None else None
        if refusal is None:
            committed += scheme.face_value_cents
            result.append(PlannedRow(row.line, code, row.note, person_id, "issue"))
        else:
            result.append(PlannedRow(row.line, code, row.note, person_id, "refused", *refusal))
    return result


def _valid_fiscal_code(code: str) -> bool:
    try:
        parse_fiscal_code(code)
    except ValidationFailed:
        return False
    return True


def create_batch(
    actor: Actor,
    scheme: Scheme,
    data: bytes,
    *,
    day: date | None = None,
    max_rows: int = MAX_ROWS,
) -> IssueBatch:
    """Read the file and save its dry run as a draft batch, to be confirmed."""
    planned = dry_run(scheme, read_rows(data, max_rows), day)
    batch = IssueBatch(
        scheme_id=scheme.id,
        created_by_id=actor.user_id,
        status="draft",
        total=len(planned),
        planned=sum(1 for p in planned if p.outcome == "issue"),
        refused=sum(1 for p in planned if p.outcome == "refused"),
    )
    db.session.add(batch)
    db.session.flush()
    db.session.add_all(
        IssueBatchRow(
            batch_id=batch.id,
            line=p.line,
            fiscal_code=p.fiscal_code,
            note=p.note,
            beneficiary_id=p.beneficiary_id,
            outcome=p.outcome,
            reason=p.reason,
            message=p.message,
        )
        for p in planned
    )
    db.session.flush()
    audit.record(
        actor,
        "batch.created",
        "batch",
        batch.id,
        scheme_id=scheme.id,
        total=batch.total,
        planned=batch.planned,
    )
    return batch


def budget_effect(batch: IssueBatch) -> BudgetEffect:
    """The scheme's budget now, and what the batch's rows still to issue would take from it."""
    scheme = batch.scheme
    pending = batch.planned - (0 if batch.status == "draft" else batch.processed)
    return BudgetEffect(
        budget_cents=scheme.budget_cents,
        committed_cents=committed_cents(scheme.id),
        batch_cents=pending * scheme.face_value_cents,
    )


def _lock_batch(batch: IssueBatch) -> IssueBatch:
    return db.session.execute(
        select(IssueBatch).where(IssueBatch.id == batch.id).with_for_update()
    ).scalar_one()


def confirm_batch(actor: Actor, batch: IssueBatch, *, day: date | None = None) -> IssueBatch:
    """Queue a draft for processing. Processing checks every row again (the dry run may be
    stale): rows refused then are reported with their reason."""
    batch = _lock_batch(batch)
    if batch.status != "draft":
        raise Conflict("Il lotto è già stato confermato.")
    if batch.planned == 0:
        raise Conflict("Nel lotto non c'è nessun buono da emettere.")
    _check_scheme_active(batch.scheme, day or clock.today())
    db.session.execute(
        update(IssueBatchRow)
        .where(IssueBatchRow.batch_id == batch.id, IssueBatchRow.outcome == "refused")
        .values(result="refused")
        .execution_options(synchronize_session=False)
    )
    batch.status = "queued"
    batch.queued_at = clock.now()
    batch.confirmed_by_id = actor.user_id
    db.session.flush()
    audit.record(actor, "batch.confirmed", "batch", batch.id, planned=batch.planned)
    return batch


def discard_batch(actor: Actor, batch: IssueBatch) -> None:
    """Drop a draft that will not be confirmed (its rows hold personal data)."""
    batch = _lock_batch(batch)
    if batch.status != "draft":
        raise Conflict("Si può annullare solo un lotto non ancora confermato.")
    db.session.delete(batch)
    db.session.flush()
    audit.record(actor, "batch.discarded", "batch", batch.id)


# Processing (called by voucher.jobs, which owns the transactions and the lease)


def batch_actor(batch: IssueBatch) -> Actor:
    """Vouchers of a batch are issued in the name of whoever confirmed it."""
    user = db.session.get(User, batch.confirmed_by_id) if batch.confirmed_by_id else None
    return actor_for(user) if user is not None else SYSTEM


def pending_rows(batch: IssueBatch, limit: int) -> list[IssueBatchRow]:
    return list(
        db.session.execute(
            select(IssueBatchRow)
            .where(
                IssueBatchRow.batch_id == batch.id,
                IssueBatchRow.outcome == "issue",
                IssueBatchRow.result.is_(None),
            )
            .order_by(IssueBatchRow.line)
            .limit(limit)
            .options(selectinload(IssueBatchRow.beneficiary))
        ).scalars()
    )


def render_letters(vouchers_with_pins: list[tuple[Voucher, str]]) -> bytes:
    """One PDF of letters, PINs included."""
    from ..documents.letter import letters_pdf
    from .letters import letters_for

    return letters_pdf(letters_for(vouchers_with_pins))


def process_chunk(actor: Actor, batch: IssueBatch, size: int, *, day: date | None = None) -> int:
    """Issue the next `size` pending rows, each through issue_voucher (which checks
    everything again), and store their letters. Returns how many rows were handled."""
    rows = pending_rows(batch, size)
    if not rows:
        return 0
    scheme = batch.scheme
    issued: list[tuple[Voucher, str]] = []
    for row in rows:
        try:
            if row.beneficiary is None:
                raise NotFound("Beneficiario non più presente.")
            voucher, pin = issue_voucher(actor, scheme, row.beneficiary, day=day, batch_id=batch.id)
        except DomainError as error:
            row.result, row.reason, row.message = "refused", error.code, error.detail[:300]
            batch.refused += 1
        else:
            row.result, row.voucher_id = "issued", voucher.id
            batch.issued += 1
            issued.append((voucher, pin))
        batch.processed += 1
    if issued:
        seq = db.session.execute(
            select(func.coalesce(func.max(IssueBatchDocument.seq), 0)).where(
                IssueBatchDocument.batch_id == batch.id,
                IssueBatchDocument.kind == "letters_part",
            )
        ).scalar_one()
        pdf = render_letters(issued)
        db.session.add(
            IssueBatchDocument(
                batch_id=batch.id, kind="letters_part", seq=seq + 1, size=len(pdf), content=pdf
            )
        )
    db.session.flush()
    return len(rows)


def finish_batch(actor: Actor, batch: IssueBatch) -> IssueBatch:
    """Every row handled: merge the letters into the batch's one PDF and close the batch."""
    parts = list(
        db.session.execute(
            select(IssueBatchDocument)
            .where(
                IssueBatchDocument.batch_id == batch.id,
                IssueBatchDocument.kind == "letters_part",
            )
            .order_by(IssueBatchDocument.seq)
            .options(undefer(IssueBatchDocument.content))
        ).scalars()
    )
    if parts:
        pdf = parts[0].content if len(parts) == 1 else merge_pdfs([p.content for p in parts])
        for part in parts:
            db.session.delete(part)
        db.session.flush()
        db.session.add(
            IssueBatchDocument(batch_id=batch.id, kind="letters", seq=0, size=len(pdf), content=pdf)
        )
    batch.status = "done"
    batch.finished_at = clock.now()
    batch.lease_owner = batch.lease_until = None
    batch.error = None
    db.session.flush()
    audit.record(
        actor, "batch.completed", "batch", batch.id, issued=batch.issued, refused=batch.refused
    )
    return batch


def fail_batch(batch: IssueBatch, message: str) -> IssueBatch:
    """Stop retrying: staff see the error and may requeue the batch."""
    batch.status = "failed"
    batch.error = message[:1000]
    batch.finished_at = clock.now()
    batch.lease_owner = batch.lease_until = None
    db.session.flush()
    audit.record(SYSTEM, "batch.failed", "batch", batch.id, processed=batch.processed)
    return batch


def requeue_batch(actor: Actor, batch: IssueBatch) -> IssueBatch:
    """Try a failed batch again; rows already issued keep their vouchers."""
    batch = _lock_batch(batch)
    if batch.status != "failed":
        raise Conflict("Si può riprendere solo un lotto interrotto da un errore.")
    batch.status = "queued"
    batch.attempts = 0
    batch.error = None
    batch.finished_at = None
    batch.queued_at = clock.now()
    db.session.flush()
    audit.record(actor, "batch.requeued", "batch", batch.id)
    return batch


# Reading batches and their documents


def get_batch(batch_id: int) -> IssueBatch:
    batch = db.session.get(IssueBatch, batch_id)
    if batch is None:
        raise NotFound("Lotto non trovato.")
    return batch


def list_batches(limit: int = 50) -> list[IssueBatch]:
    return list(
        db.session.execute(select(IssueBatch).order_by(IssueBatch.id.desc()).limit(limit)).scalars()
    )


def batch_rows(
    batch: IssueBatch, *, refused_only: bool = False, offset: int = 0, limit: int = 500
) -> list[IssueBatchRow]:
    """A page of the batch's rows in file order, with their vouchers."""
    query = select(IssueBatchRow).where(IssueBatchRow.batch_id == batch.id)
    if refused_only:
        query = query.where(
            (IssueBatchRow.outcome == "refused") | (IssueBatchRow.result == "refused")
        )
    query = (
        query.order_by(IssueBatchRow.line)
        .offset(offset)
        .limit(limit)
        .options(selectinload(IssueBatchRow.voucher), selectinload(IssueBatchRow.beneficiary))
    )
    return list(db.session.execute(query).scalars())


def count_rows(batch: IssueBatch, *, refused_only: bool = False) -> int:
    query = (
        select(func.count()).select_from(IssueBatchRow).where(IssueBatchRow.batch_id == batch.id)
    )
    if refused_only:
        query = query.where(
            (IssueBatchRow.outcome == "refused") | (IssueBatchRow.result == "refused")
        )
    return db.session.execute(query).scalar_one()


def refused_by_reason(batch: IssueBatch) -> dict[str, int]:
    """How many rows were refused, per reason code."""
    reason = IssueBatchRow.reason
    rows = db.session.execute(
        select(reason, func.count())
        .where(
            IssueBatchRow.batch_id == batch.id,
            (IssueBatchRow.outcome == "refused") | (IssueBatchRow.result == "refused"),
        )
        .group_by(reason)
        .order_by(reason)
    )
    return {code or "": count for code, count in rows}
