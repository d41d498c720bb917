"""Processing a confirmed batch, called by voucher.jobs (which owns the transactions and the
lease): each chunk of rows issued through issue_voucher, which checks everything again, with
the chunk's letters rendered while its PINs are in memory; then the letters merged into the
batch's one PDF, or the batch stopped on an error."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload, undefer

from ..documents.letter import letters_pdf
from ..errors import DomainError, NotFound
from ..extensions import db
from ..models import IssueBatch, IssueBatchDocument, IssueBatchRow, User, Voucher
from ..models.status import BatchStatus
from . import SYSTEM, Actor, audit, clock
from .batch_files import merge_pdfs
from .issuance import issue_voucher
from .letters import letters_for
from .users import actor_for


def batch_actor(batch: IssueBatch) -> Actor:
    """Vouchers of a batch are issued in the name of whoever confirmed it."""
    user = db.session.get(User, batch.confirmed_by_id) if batch.confirmed_by_id else None
    return actor_for(user) if user is not None else SYSTEM


def pending_rows(batch: IssueBatch, limit: int) -> list[IssueBatchRow]:
    """The next `limit` rows planned for issue and not yet handled, in file order."""
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
    batch.status = BatchStatus.DONE
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
    batch.status = BatchStatus.FAILED
    batch.error = message[:1000]
    batch.finished_at = clock.now()
    batch.lease_owner = batch.lease_until = None
    db.session.flush()
    audit.record(SYSTEM, "batch.failed", "batch", batch.id, processed=batch.processed)
    return batch
