"""Bulk import of beneficiaries: one uploaded file, checked row by row (a dry run) and then
confirmed, as bulk issuance is. A row's details are kept only until the import is confirmed
or discarded; what stays is its outcome."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import created_at_column
from .beneficiary import Beneficiary
from .user import User

IMPORT_STATUSES = ("draft", "done", "discarded")
IMPORT_OUTCOMES = ("register", "refused")


class BeneficiaryImport(db.Model):
    __tablename__ = "beneficiary_import"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'done', 'discarded')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = created_at_column()
    status: Mapped[str] = mapped_column(String(10), default="draft")
    total: Mapped[int] = mapped_column(default=0)  # rows in the file
    planned: Mapped[int] = mapped_column(default=0)  # rows the dry run would register
    refused: Mapped[int] = mapped_column(default=0)
    registered: Mapped[int] = mapped_column(default=0)  # once confirmed
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    created_by: Mapped[User | None] = relationship()
    rows: Mapped[list["BeneficiaryImportRow"]] = relationship(
        back_populates="beneficiary_import",
        order_by="BeneficiaryImportRow.line",
        cascade="all, delete-orphan",
    )


class BeneficiaryImportRow(db.Model):
    __tablename__ = "beneficiary_import_row"
    __table_args__ = (
        CheckConstraint("outcome IN ('register', 'refused')", name="outcome_known"),
        Index("ix_beneficiary_import_row_import_line", "import_id", "line"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("beneficiary_import.id", ondelete="CASCADE"))
    line: Mapped[int]
    fiscal_code: Mapped[str | None] = mapped_column(String(16))
    # The row's fields as read (names, Comune, categories, contacts): cleared once the
    # import is confirmed or discarded.
    data: Mapped[dict | None] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(String(300))
    # A fiscal code that does not match the name, sex or birth date: registered only when
    # the social worker confirms it.
    warning: Mapped[str | None] = mapped_column(String(300))
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiary.id"))

    beneficiary_import: Mapped[BeneficiaryImport] = relationship(back_populates="rows")
    beneficiary: Mapped[Beneficiary | None] = relationship()
