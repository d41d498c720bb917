"""Rate-limit counters, shared by every worker through the database."""

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class RateLimitCounter(db.Model):
    """One fixed window of one limit for one client (Flask-Limiter's key)."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int]
    expires_at: Mapped[float] = mapped_column(Float, index=True)
