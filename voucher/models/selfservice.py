"""A beneficiary's self-service session on /saldo, kept on the server."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._base import created_at_column


class BeneficiarySession(db.Model):
    """One signed-in consultation of a voucher. The browser's cookie holds a random token,
    stored here only as its SHA-256 digest; deleting the row ends the session at once, on
    sign-out, on a PIN reset or on revocation."""

    __tablename__ = "beneficiary_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    voucher_id: Mapped[int] = mapped_column(
        ForeignKey("voucher.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = created_at_column()
