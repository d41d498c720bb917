"""Bulk issuance, as staff see it: a file of codici fiscali, a dry run row by row (the same
checks as a single issue), a draft to confirm or discard, and the batches to read. The
confirmed batch is then issued chunk by chunk by voucher.jobs (see batch_processing).

The PINs exist only in the letters: each chunk's letters are rendered while its PINs are in
memory and stored with that chunk's vouchers, in the same transaction.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..models import Beneficiary, IssueBatch, IssueBatchRow, Scheme, Voucher
from ..models.status import OPEN_VOUCHER_STATUSES, BatchStatus, allows
from . import Actor, audit, clock, reach
from .batch_files import MAX_ROWS, UploadedRow, read_rows
from .identifiers import parse_fiscal_code
from .issuance import check_scheme_active, issuance_checks, refusal_of, require
from .schemes import committed_cents
from .wording import N_

_LOOKUP_CHUNK = 500

# Why a row is refused; the code is stored, the message is shown. The last ones are the
# refusals of issue_voucher when a confirmed row is issued (voucher.services.batch_processing).
REASONS = {
    "missing_fiscal_code": N_("Codice fiscale mancante"),
    "invalid_fiscal_code": N_("Codice fiscale non valido"),
    "duplicate_row": N_("Riga ripetuta"),
    "unknown_beneficiary": N_("Beneficiario non registrato"),
    "not_eligible": N_("Requisiti non soddisfatti"),
    "limit_reached": N_("Limite di buoni attivi raggiunto"),
    "budget_exceeded": N_("Budget esaurito"),
    "scheme_not_active": N_("Misura non attiva"),
    "not_found": N_("Beneficiario non più presente"),
    "validation_error": N_("Dati non validi"),
    "conflict": N_("Operazione in conflitto con lo stato attuale"),
}


@dataclass(frozen=True)
class PlannedRow:
    """What the dry run plans for one row of the file: issue, or refuse with a reason."""

    line: int
    fiscal_code: str
    note: str | None
    beneficiary_id: int | None
    outcome: str  # "issue" | "refused"
    reason: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class BudgetEffect:
    """The scheme's budget, what is already committed, and what the batch would add."""

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
                Voucher.status.in_(sorted(OPEN_VOUCHER_STATUSES)),
            )
            .group_by(Voucher.beneficiary_id)
        ):
            counts[person_id] = count
    return counts


def dry_run(
    scheme: Scheme,
    rows: list[UploadedRow],
    day: date | None = None,
    *,
    actor: Actor | None = None,
) -> list[PlannedRow]:
    """What issuing each row would do, in file order, without writing anything: the budget
    counts the rows above as already issued. With an actor, people outside their reach
    (voucher.services.reach) are as if not registered, and so are people whose voucher
    would be charged to a Comune outside their team."""
    day = day or clock.today()
    require(check_scheme_active(scheme, day))
    codes = [_normalise_code(r.fiscal_code) for r in rows]
    people = _beneficiaries_by_code(sorted(set(codes)))
    if actor is not None and actor.team is not None:
        kept = {p.id for p in reach.keep_beneficiaries(actor, list(people.values()))}
        people = {
            code: p for code, p in people.items() if p.id in kept and p.comune_id in actor.team
        }
    active = _active_counts(scheme, [p.id for p in people.values()])
    committed = committed_cents(scheme.id)
    seen: dict[str, int] = {}
    result = []
    for row, code in zip(rows, codes, strict=True):
        person = people.get(code)
        refusal = None
        if not code:
            refusal = "missing_fiscal_code", N_("La riga non ha un codice fiscale.")
        elif not _valid_fiscal_code(code):
            refusal = "invalid_fiscal_code", N_("Il codice fiscale non è valido.")
        elif code in seen:
            message = N_("Stesso codice fiscale della riga %(line)s.") % {"line": seen[code]}
            refusal = "duplicate_row", message
        elif person is None:
            refusal = "unknown_beneficiary", N_("Nessun beneficiario registrato con questo codice.")
        else:
            refusal = refusal_of(
                issuance_checks(
                    scheme, person, day, active_count=active.get(person.id, 0), committed=committed
                )
            )
            if refusal and refusal[0] == "budget_exceeded":
                refusal = (
                    "budget_exceeded",
                    N_(
                        "Il budget residuo della misura, tolte le righe precedenti del file, "
                        "non basta per questo buono."
                    ),
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
    planned = dry_run(scheme, read_rows(data, max_rows), day, actor=actor)
    batch = IssueBatch(
        scheme_id=scheme.id,
        created_by_id=actor.user_id,
        status=BatchStatus.DRAFT,
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
    pending = batch.planned - (0 if batch.status == BatchStatus.DRAFT else batch.processed)
    return BudgetEffect(
        budget_cents=scheme.budget_cents,
        committed_cents=committed_cents(scheme.id),
        batch_cents=pending * scheme.face_value_cents,
    )


def _lock_batch(batch: IssueBatch) -> IssueBatch:
    """The batch row, locked until the transaction ends and read afresh: a batch the view
    loaded before the lock was granted would still say "draft" after a rival confirmed it.
    Locked and re-read, the draft is the bulk confirmation's one-time token: of two
    confirmations, replays or tabs, only the first finds it a draft."""
    return db.session.execute(
        select(IssueBatch)
        .where(IssueBatch.id == batch.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def confirm_batch(actor: Actor, batch: IssueBatch, *, day: date | None = None) -> IssueBatch:
    """Queue a draft for processing. Processing checks every row again (the dry run may be
    stale): rows refused then are reported with their reason."""
    batch = _lock_batch(batch)
    if not allows("batch", batch.status, "confirm"):
        raise Conflict(N_("Il lotto è già stato confermato."))
    if batch.planned == 0:
        raise Conflict(N_("Nel lotto non c'è nessun buono da emettere."))
    require(check_scheme_active(batch.scheme, day or clock.today()))
    db.session.execute(
        update(IssueBatchRow)
        .where(IssueBatchRow.batch_id == batch.id, IssueBatchRow.outcome == "refused")
        .values(result="refused")
        .execution_options(synchronize_session=False)
    )
    batch.status = BatchStatus.QUEUED
    batch.queued_at = clock.now()
    batch.confirmed_by_id = actor.user_id
    db.session.flush()
    audit.record(actor, "batch.confirmed", "batch", batch.id, planned=batch.planned)
    return batch


def discard_batch(actor: Actor, batch: IssueBatch) -> None:
    """Drop a draft that will not be confirmed (its rows hold personal data)."""
    batch = _lock_batch(batch)
    if not allows("batch", batch.status, "discard"):
        raise Conflict(N_("Si può annullare solo un lotto non ancora confermato."))
    db.session.delete(batch)
    db.session.flush()
    audit.record(actor, "batch.discarded", "batch", batch.id)


def requeue_batch(actor: Actor, batch: IssueBatch) -> IssueBatch:
    """Try a failed batch again; rows already issued keep their vouchers."""
    batch = _lock_batch(batch)
    if not allows("batch", batch.status, "requeue"):
        raise Conflict(N_("Si può riprendere solo un lotto interrotto da un errore."))
    batch.status = BatchStatus.QUEUED
    batch.attempts = 0
    batch.error = None
    batch.finished_at = None
    batch.queued_at = clock.now()
    db.session.flush()
    audit.record(actor, "batch.requeued", "batch", batch.id)
    return batch


# Reading batches and their documents


def get_batch(batch_id: int) -> IssueBatch:
    """The batch, or NotFound."""
    batch = db.session.get(IssueBatch, batch_id)
    if batch is None:
        raise NotFound(N_("Lotto non trovato."))
    return batch


def list_batches(limit: int = 50) -> list[IssueBatch]:
    """The latest batches, newest first."""
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
    """How many rows the batch has (only the refused ones with refused_only)."""
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
