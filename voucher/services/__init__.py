"""The business rules, as plain functions over models and values.

They know nothing of HTTP, forms or the signed-in user: the caller passes an Actor, and
owns the transaction (services flush, never commit).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, a provider's API key, the system (CLI, nightly jobs) or a
    beneficiary checking their own voucher."""

    type: str  # "user" | "api_key" | "system" | "beneficiary"
    id: int | None
    label: str
    role: str | None = None
    provider_id: int | None = None
    user_id: int | None = None
    api_key_id: int | None = None


SYSTEM = Actor(type="system", id=None, label="system")
