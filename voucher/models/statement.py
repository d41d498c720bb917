"""Provider statements (rendiconti mensili) and the SIUSS flows served to INPS.

An approved statement is frozen: its lines are recorded once and never change. Ledger
entries that arrive later for an approved month belong to the next open statement.
"""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import created_at_column
from .provider import Provider
from .status import StatementStatus
from .voucher import Voucher

STATEMENT_STATUSES = tuple(s.value for s in StatementStatus)  # "open" has no row yet
ESITO_CODES = ("OK", "DATI_NON_TROVATI", "RICHIESTA_INVALIDA", "ERRORE_GENERICO")


class Statement(db.Model):
    """A provider's month, approved by the ente (and later paid). Only the payment fields
    change after approval; the lines and totals never do."""

    __tablename__ = "statement"
    __table_args__ = (
        UniqueConstraint("provider_id", "month"),
        CheckConstraint("status IN ('approved', 'paid')", name="status_known"),
        CheckConstraint(
            "total_public_cents + total_copay_cents = total_amount_cents", name="totals_add_up"
        ),
        CheckConstraint(
            "status <> 'paid' OR (paid_on IS NOT NULL AND payment_reference IS NOT NULL)",
            name="paid_has_reference",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    status: Mapped[str] = mapped_column(String(8), default="approved")
    line_count: Mapped[int]
    total_amount_cents: Mapped[int]
    total_public_cents: Mapped[int]
    total_copay_cents: Mapped[int]
    approved_at: Mapped[datetime] = created_at_column()
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    paid_on: Mapped[date | None] = mapped_column(Date)
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    provider: Mapped[Provider] = relationship()


class StatementLine(db.Model):
    """One ledger entry frozen into one statement: an entry is in at most one statement.
    Append-only, like the ledger (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "statement_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statement.id"), index=True)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)


class SiussFlow(db.Model):
    """A SIUSS PS flow for one voucher's activity in one month: one Beneficiario with one
    PrestazioniSociali, as INPS's WaaS pull API requires. A correction is a cancelling flow
    (TipoOperazione C) of the earlier one followed by a new insertion (I)."""

    __tablename__ = "siuss_flow"
    __table_args__ = (CheckConstraint("operation IN ('I', 'C')", name="operation_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    id_flusso: Mapped[str] = mapped_column(String(64), unique=True)
    period: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    voucher_id: Mapped[int] = mapped_column(ForeignKey("voucher.id"), index=True)
    operation: Mapped[str] = mapped_column(String(1))
    cancels_id: Mapped[int | None] = mapped_column(ForeignKey("siuss_flow.id"), unique=True)
    # Milliseconds since the epoch, strictly increasing: INPS pages with `since`.
    ts_ms: Mapped[int] = mapped_column(BigInteger, unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int]
    public_cents: Mapped[int]
    copay_cents: Mapped[int]
    # The Beneficiario and PrestazioniSociali attributes, to write a cancelling flow later.
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()

    voucher: Mapped[Voucher] = relationship()
    outcomes: Mapped[list["SiussOutcome"]] = relationship(
        order_by="SiussOutcome.id", back_populates="flow"
    )


class SiussOutcome(db.Model):
    """An outcome (esito) that INPS posted for a flow."""

    __tablename__ = "siuss_outcome"
    __table_args__ = (
        CheckConstraint(
            "codice_esito IN ('OK', 'DATI_NON_TROVATI', 'RICHIESTA_INVALIDA', 'ERRORE_GENERICO')",
            name="codice_esito_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("siuss_flow.id"), index=True)
    codice_esito: Mapped[str] = mapped_column(String(20))
    descrizione_esito: Mapped[str | None] = mapped_column(String(2000))
    id_acquisizione_siuss: Mapped[str | None] = mapped_column(String(64))
    ts_acquisizione: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = created_at_column()

    flow: Mapped[SiussFlow] = relationship(back_populates="outcomes")


class StatementInvoice(db.Model):
    """A FatturaPA invoice a provider sent through SDI for a month's statement, as uploaded,
    with what was read from it. It was matched, when recorded, to the statement's subtotal
    with its CUP (or to the public total); the check is made again before payment, since an
    open statement may still change."""

    __tablename__ = "statement_invoice"
    __table_args__ = (
        UniqueConstraint("provider_id", "number", "issued_on"),
        CheckConstraint("taxable_cents + vat_cents = total_cents", name="total_adds_up"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, the statement's month
    number: Mapped[str] = mapped_column(String(20))
    issued_on: Mapped[date] = mapped_column(Date)
    sdi_id: Mapped[str | None] = mapped_column(String(20))  # the SDI's IdentificativoSdI
    cup: Mapped[str | None] = mapped_column(String(15))
    seller_vat_number: Mapped[str] = mapped_column(String(28))
    document_type: Mapped[str] = mapped_column(String(4))  # TipoDocumento, TD01 and so on
    taxable_cents: Mapped[int] = mapped_column(BigInteger)
    vat_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    # What the invoice says of VAT, never computed here: rates and natures (N4 exempt...).
    vat_treatment: Mapped[str] = mapped_column(String(200))
    # The figure it was matched to when recorded: the CUP's subtotal or the public total.
    matched_cents: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))  # the document as received
    document: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    uploaded_at: Mapped[datetime] = created_at_column()

    provider: Mapped[Provider] = relationship()
