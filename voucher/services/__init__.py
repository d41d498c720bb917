"""The business rules, as plain functions over models and values.

They know nothing of HTTP, forms or the signed-in user: the caller passes an Actor, and
owns the transaction (services flush, never commit).
"""

from dataclasses import dataclass

from ..permissions import allowed


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, a provider's API key, the system (CLI, nightly jobs) or a
    beneficiary checking their own voucher. The same object tells the front doors what it
    may do (`can`) and whose data it may see (`sees_provider`)."""

    type: str  # "user" | "api_key" | "system" | "beneficiary"
    id: int | None
    label: str
    role: str | None = None
    provider_id: int | None = None
    user_id: int | None = None
    api_key_id: int | None = None

    def can(self, permission: str) -> bool:
        """Whether this actor's role may do `permission` (voucher.permissions)."""
        return allowed(self.role, permission)

    @property
    def is_provider(self) -> bool:
        return self.role == "provider"

    def sees_provider(self, provider_id: int | None) -> bool:
        """A provider sees only its own data; everyone else with the permission sees all."""
        return not self.is_provider or provider_id == self.provider_id


SYSTEM = Actor(type="system", id=None, label="system")
