"""What each role may do: one table, shared by the pages, the API and its tests (the role
× endpoint matrix is generated from it).

Reach (which objects a provider may see) is a second question, answered by
`Actor.sees_provider` (voucher.services): a provider sees only its own data, and everything
else is 404 to it. Likewise a social worker sees only the people and vouchers of the Comuni
assigned to them, if any (voucher.services.reach).
"""

STAFF = frozenset({"admin", "social_worker"})
ALL = frozenset({"admin", "social_worker", "provider", "auditor", "finance"})
# The ente's offices that read the accounts: the admin, the auditors and the ragioneria.
ACCOUNTS = frozenset({"admin", "auditor", "finance"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "reference.read": ALL,
    "ente.read": frozenset({"admin", "social_worker", "auditor", "finance"}),
    "ente.manage": frozenset({"admin"}),
    "user.manage": frozenset({"admin"}),
    "provider.manage": frozenset({"admin"}),
    "provider.read": frozenset({"admin", "social_worker", "auditor", "provider", "finance"}),
    # IBAN, DURC and the dedicated account: the admin records them, the ragioneria reads them.
    "provider.payment_data": frozenset({"admin", "finance"}),
    "scheme.manage": frozenset({"admin"}),
    "scheme.read": frozenset({"admin", "social_worker", "auditor", "finance"}),
    "beneficiary.manage": STAFF,
    "beneficiary.read": STAFF,
    # A data-subject request (GDPR art. 15): the admin answers for the ente, as controller.
    "beneficiary.export": frozenset({"admin"}),
    "voucher.issue": STAFF,
    "voucher.manage": STAFF,
    "voucher.read": frozenset({"admin", "social_worker", "auditor", "provider"}),
    # The letter is addressed to the beneficiary, with personal data (name, address, scheme):
    # only staff print it; auditors read reports, the audit trail and SIUSS, not letters.
    "voucher.print": STAFF,
    "notification.read": STAFF,
    "redemption.create": frozenset({"provider"}),
    "redemption.read": ALL,
    "redemption.reverse": STAFF,
    # A wrong entry corrected: staff reverse any; a provider cancels its own on the day it
    # recorded it (voucher.services.cancellation decides which).
    "redemption.correct": STAFF | {"provider"},
    "revocation.read": ALL,
    "report.read": ACCOUNTS,
    "statement.read": ACCOUNTS | {"provider"},
    # Segregation of duties: the admin approves a statement (a social-services act), the
    # ragioneria pays it; neither does the other's act.
    "statement.manage": frozenset({"admin"}),
    "statement.pay": frozenset({"finance"}),
    # A provider's invoices for its statements: the provider sends them, or the offices
    # record them on its behalf.
    "invoice.upload": frozenset({"admin", "finance", "provider"}),
    # INPS collects SIUSS flows with an account of its own (auditor) and posts outcomes.
    "siuss.exchange": frozenset({"admin", "auditor"}),
    "siuss.manage": frozenset({"admin"}),
    "audit.read": ACCOUNTS,
    # Opening one record outside one's Comuni, with a reason (the others see every Comune);
    # the admin reviews these accesses every week.
    "access.break_glass": frozenset({"social_worker"}),
    "access.review": frozenset({"admin"}),
}


def allowed(role: str | None, permission: str) -> bool:
    return role is not None and role in PERMISSIONS[permission]
