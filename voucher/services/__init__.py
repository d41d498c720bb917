"""The business rules, as plain functions over models and values.

They know nothing of HTTP, forms or the signed-in user: the caller passes an Actor, and
owns the transaction (services flush, never commit).
"""

from dataclasses import dataclass
from functools import cached_property

from ..permissions import allowed


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, a provider's API key, the system (CLI, nightly jobs) or a
    beneficiary checking their own voucher. The same object tells the front doors what it
    may do (`can`) and whose data it may see (`sees_provider`, and `team` for the social
    workers' Comuni)."""

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

    @cached_property
    def team(self) -> frozenset[int] | None:
        """The ids of the Comuni whose people and vouchers a social worker sees; None for
        the whole view (every other role, and a social worker with no Comune assigned).
        What it opens is decided in voucher.services.reach."""
        if self.role != "social_worker" or self.user_id is None:
            return None
        # Imported here: the models need the application's extensions, this module does not.
        from sqlalchemy import select

        from ..extensions import db
        from ..models import TeamComune

        ids = db.session.execute(
            select(TeamComune.comune_id).where(TeamComune.user_id == self.user_id)
        ).scalars()
        return frozenset(ids) or None


SYSTEM = Actor(type="system", id=None, label="system")
