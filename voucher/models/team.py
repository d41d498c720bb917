"""Social workers' teams: the Comuni each one serves, and the break-glass grants that open one
record outside them for a short time (see voucher.services.reach)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import utcnow
from .ente import Comune
from .user import User

BREAK_GLASS_KINDS = ("beneficiary", "voucher")


class TeamComune(db.Model):
    """One of the ente's Comuni a social worker serves. A social worker without any sees
    every Comune, as before teams existed."""

    __tablename__ = "team_comune"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    comune_id: Mapped[int] = mapped_column(
        ForeignKey("comune.id", ondelete="CASCADE"), primary_key=True
    )
    comune: Mapped[Comune] = relationship()


class BreakGlassGrant(db.Model):
    """Access to one beneficiary or voucher outside the social worker's Comuni, asked for
    with a reason, until `expires_at`. Each grant is also an `access.break_glass` event of
    the audit trail; this row is what the reach checks and the admin's report read."""

    __tablename__ = "break_glass_grant"
    __table_args__ = (
        CheckConstraint("object_type IN ('beneficiary', 'voucher')", name="object_type_known"),
        CheckConstraint("expires_at > granted_at", name="expires_after_granted"),
        Index("ix_break_glass_grant_user_object", "user_id", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(12))
    object_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user: Mapped[User] = relationship()
