"""One-time tokens of the forms that create money or vouchers, kept on the server."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

FORM_TOKEN_PURPOSES = ("issue", "replace", "reset_pin")


class FormToken(db.Model):
    """A token put in one display of a form: only its SHA-256 digest is kept, with the form's
    purpose, the user it was shown to and the object it acts on (`subject`, e.g.
    "beneficiary:12"). `used_at` is set once, by the submission that acts."""

    __tablename__ = "form_token"
    __table_args__ = (
        CheckConstraint("purpose IN ('issue', 'replace', 'reset_pin')", name="purpose_known"),
        Index("ix_form_token_user_id_purpose_subject", "user_id", "purpose", "subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
