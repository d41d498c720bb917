"""Bulk issuance: a batch of vouchers from one uploaded file, its rows and its documents."""

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import created_at_column
from .beneficiary import Beneficiary
from .scheme import Scheme
from .status import BatchStatus
from .user import User
from .voucher import Voucher

BATCH_STATUSES = tuple(s.value for s in BatchStatus)
ROW_OUTCOMES = ("issue", "refused")
ROW_RESULTS = ("issued", "refused")
# Why a batch's letters are gone: downloaded (they are read once), deleted by hand, or
# expired (the nightly job, BATCH_LETTERS_KEEP_DAYS after they were written).
LETTERS_REMOVED_REASONS = ("downloaded", "deleted", "expired")


class IssueBatch(db.Model):
    """One upload: a dry run (draft), then, once confirmed, a background job that issues the
    vouchers chunk by chunk under a lease, so that a crashed worker's batch is resumed."""

    __tablename__ = "issue_batch"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'queued', 'running', 'done', 'failed')", name="status_known"
        ),
        CheckConstraint("processed <= planned", name="processed_within_planned"),
        CheckConstraint(
            "letters_removed_reason IS NULL"
            " OR letters_removed_reason IN ('downloaded', 'deleted', 'expired')",
            name="letters_removed_reason_known",
        ),
        Index("ix_issue_batch_status_lease", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[str] = mapped_column(String(8), default="draft")
    total: Mapped[int] = mapped_column(default=0)  # rows in the file
    planned: Mapped[int] = mapped_column(default=0)  # rows the dry run would issue
    processed: Mapped[int] = mapped_column(default=0)  # planned rows handled so far
    issued: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)  # at the dry run and at processing
    error: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the letters (with the PINs) left the server, by whom (None: the nightly job), why.
    letters_removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    letters_removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    letters_removed_reason: Mapped[str | None] = mapped_column(String(12))

    scheme: Mapped[Scheme] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    letters_removed_by: Mapped[User | None] = relationship(foreign_keys=[letters_removed_by_id])
    rows: Mapped[list["IssueBatchRow"]] = relationship(
        order_by="IssueBatchRow.line",
        cascade="all, delete-orphan",
        passive_deletes=True,
        back_populates="batch",
    )

    @property
    def percent(self) -> int:
        """How much of the confirmed work is done, for the progress bar."""
        if self.status == "done" or not self.planned:
            return 100 if self.status == "done" else 0
        return min(100, self.processed * 100 // self.planned)


class IssueBatchRow(db.Model):
    """One line of the file: the dry run's outcome, then what processing did.

    A row with `result` set is never processed again: that is what makes resuming a crashed
    batch safe (an issued row carries its voucher)."""

    __tablename__ = "issue_batch_row"
    __table_args__ = (
        UniqueConstraint("batch_id", "line"),
        CheckConstraint("outcome IN ('issue', 'refused')", name="outcome_known"),
        CheckConstraint("result IS NULL OR result IN ('issued', 'refused')", name="result_known"),
        CheckConstraint(
            "(result = 'issued') = (voucher_id IS NOT NULL)", name="issued_has_voucher"
        ),
        Index("ix_issue_batch_row_pending", "batch_id", "result", "line"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("issue_batch.id", ondelete="CASCADE"))
    line: Mapped[int]
    fiscal_code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(200))
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiary.id"))
    outcome: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(String(300))
    result: Mapped[str | None] = mapped_column(String(8))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("voucher.id"), unique=True)

    batch: Mapped[IssueBatch] = relationship(back_populates="rows")
    beneficiary: Mapped[Beneficiary | None] = relationship()
    voucher: Mapped[Voucher | None] = relationship()


class IssueBatchDocument(db.Model):
    """The letters of a batch, with the PINs: one part per processed chunk, written in the
    same transaction as that chunk's vouchers, merged into one PDF when the batch is done.

    Kept in the database rather than on disk: the worker and the web server may run on
    different hosts, and a part must commit (or not) together with its vouchers, since the
    PINs exist nowhere else. Kept briefly: the PDF is deleted when it is downloaded, and the
    nightly job deletes any left after BATCH_LETTERS_KEEP_DAYS; scripts/backup leaves this
    table's rows out, so no backup holds a PIN in clear."""

    __tablename__ = "issue_batch_document"
    __table_args__ = (
        UniqueConstraint("batch_id", "kind", "seq"),
        CheckConstraint("kind IN ('letters_part', 'letters')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("issue_batch.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(default=0)
    size: Mapped[int] = mapped_column(default=0)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = created_at_column()
