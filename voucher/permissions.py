"""What each role may do: one table, shared by the pages and the API.

Reach (which objects a provider may see) is a second question, answered by the views
with `own_provider_only`: a provider sees only its own data, and everything else is 404.
"""

from dataclasses import dataclass

from .services import Actor

STAFF = frozenset({"admin", "social_worker"})
ALL = frozenset({"admin", "social_worker", "provider", "auditor"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "reference.read": ALL,
    "ente.read": frozenset({"admin", "social_worker", "auditor"}),
    "ente.manage": frozenset({"admin"}),
    "user.manage": frozenset({"admin"}),
    "provider.manage": frozenset({"admin"}),
    "provider.read": frozenset({"admin", "social_worker", "auditor", "provider"}),
    "scheme.manage": frozenset({"admin"}),
    "scheme.read": frozenset({"admin", "social_worker", "auditor"}),
    "beneficiary.manage": STAFF,
    "beneficiary.read": STAFF,
    "voucher.issue": STAFF,
    "voucher.manage": STAFF,
    "voucher.read": frozenset({"admin", "social_worker", "auditor", "provider"}),
    "redemption.create": frozenset({"provider"}),
    "redemption.read": ALL,
    "redemption.reverse": STAFF,
    "revocation.read": ALL,
    "report.read": frozenset({"admin", "auditor"}),
    "statement.read": frozenset({"admin", "auditor", "provider"}),
    "statement.manage": frozenset({"admin"}),
    # INPS collects SIUSS flows with an account of its own (auditor) and posts outcomes.
    "siuss.exchange": frozenset({"admin", "auditor"}),
    "siuss.manage": frozenset({"admin"}),
    "audit.read": frozenset({"admin", "auditor"}),
}


def allowed(role: str | None, permission: str) -> bool:
    return role is not None and role in PERMISSIONS[permission]


@dataclass(frozen=True)
class Principal:
    """Whoever is calling: a signed-in user or a provider's API key."""

    role: str
    user_id: int | None = None
    api_key_id: int | None = None
    provider_id: int | None = None
    label: str = ""

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)

    @property
    def is_provider(self) -> bool:
        return self.role == "provider"

    def actor(self) -> Actor:
        if self.api_key_id is not None:
            return Actor(
                type="api_key",
                id=self.api_key_id,
                label=self.label,
                role=self.role,
                provider_id=self.provider_id,
                api_key_id=self.api_key_id,
            )
        return Actor(
            type="user",
            id=self.user_id,
            label=self.label,
            role=self.role,
            provider_id=self.provider_id,
            user_id=self.user_id,
        )


def principal_for_user(user) -> Principal:
    return Principal(
        role=user.role, user_id=user.id, provider_id=user.provider_id, label=user.username
    )


def principal_for_api_key(api_key) -> Principal:
    return Principal(
        role="provider",
        api_key_id=api_key.id,
        provider_id=api_key.provider_id,
        label=f"api-key:{api_key.prefix}",
    )
