"""What each role may do: one table, shared by the pages, the API and its tests (the role
× endpoint matrix is generated from it).

Reach (which objects a provider may see) is a second question, answered by
`Actor.sees_provider` (voucher.services): a provider sees only its own data, and everything
else is 404 to it.
"""

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
    # The letter is addressed to the beneficiary, with personal data: providers never print it.
    "voucher.print": frozenset({"admin", "social_worker", "auditor"}),
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
