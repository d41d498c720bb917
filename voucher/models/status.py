"""The statuses of each aggregate as named enums, with the label and badge colour a reader
sees, and the one table of what may be done to each aggregate in each status.

Services refuse an action the table does not allow; pages read the same table to show only
the actions that will be accepted. A StrEnum compares equal to its value, so a status read
from the database ("active") and VoucherStatus.ACTIVE are the same thing.
"""

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class _Labelled(StrEnum):
    """A status with its reader's label (in the reader's language) and badge colour; the
    text carries the meaning, the colour only repeats it. Each member is written as
    `NAME = value, label, badge`."""

    def __new__(cls, value: str, label, badge: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.badge = badge
        return member


class VoucherStatus(_Labelled):
    ACTIVE = "active", _l("Attivo"), "success"
    EXHAUSTED = "exhausted", _l("Esaurito"), "secondary"
    EXPIRED = "expired", _l("Scaduto"), "secondary"
    REVOKED = "revoked", _l("Revocato"), "danger"
    SUSPENDED = "suspended", _l("Sospeso"), "warning"


class SchemeStatus(_Labelled):
    DRAFT = "draft", _l("Bozza"), "secondary"
    ACTIVE = "active", _l("Attiva"), "success"
    CLOSED = "closed", _l("Chiusa"), "dark"


class ProviderStatus(_Labelled):
    ACTIVE = "active", _l("Attivo"), "success"
    SUSPENDED = "suspended", _l("Sospeso"), "danger"


class StatementStatus(_Labelled):
    OPEN = "open", _l("aperto"), "secondary"  # a month not yet approved: it has no row
    APPROVED = "approved", _l("approvato"), "primary"
    PAID = "paid", _l("pagato"), "success"


class BatchStatus(_Labelled):
    DRAFT = "draft", _l("Da confermare"), "secondary"
    QUEUED = "queued", _l("In coda"), "info"
    RUNNING = "running", _l("In elaborazione"), "primary"
    DONE = "done", _l("Completato"), "success"
    FAILED = "failed", _l("Interrotto da un errore"), "danger"


class LedgerKind(_Labelled):
    """A ledger entry: a service delivered, or the reversal that compensates one."""

    REDEMPTION = "redemption", _l("Prestazione"), "primary"
    REVERSAL = "reversal", _l("Storno"), "warning"


_V = VoucherStatus
_S = SchemeStatus
_P = ProviderStatus
_B = BatchStatus

# What may be done to each aggregate in each status: the one table that services obey and
# pages read. A voucher's redemption also needs it within its validity and a balance left;
# an expired or revoked voucher is closed for good.
ACTIONS: dict[str, dict[str, frozenset[str]]] = {
    "voucher": {
        "redeem": frozenset({_V.ACTIVE}),
        "suspend": frozenset({_V.ACTIVE}),
        "reactivate": frozenset({_V.SUSPENDED}),
        "revoke": frozenset({_V.ACTIVE, _V.SUSPENDED, _V.EXHAUSTED}),
        "replace": frozenset({_V.ACTIVE, _V.SUSPENDED}),
        "reset_pin": frozenset({_V.ACTIVE, _V.SUSPENDED}),
        "expire": frozenset({_V.ACTIVE, _V.SUSPENDED}),
        # Whatever its status, a voucher's entries must count for the right Comune.
        "transfer": frozenset(_V),
    },
    "scheme": {
        "edit": frozenset({_S.DRAFT}),  # issued vouchers keep the terms they were issued on
        "activate": frozenset({_S.DRAFT}),
        "close": frozenset({_S.DRAFT, _S.ACTIVE}),
    },
    "provider": {
        "redeem": frozenset({_P.ACTIVE}),
        "suspend": frozenset({_P.ACTIVE}),
        "reinstate": frozenset({_P.SUSPENDED}),
    },
    "statement": {
        "pay": frozenset({StatementStatus.APPROVED}),
    },
    "batch": {
        "confirm": frozenset({_B.DRAFT}),
        "discard": frozenset({_B.DRAFT}),
        "requeue": frozenset({_B.FAILED}),
        "download": frozenset({_B.DONE}),  # its codes and letters
    },
}
VOUCHER_ACTIONS = ACTIONS["voucher"]


def allows(kind: str, status: str, action: str) -> bool:
    """Whether a `kind` ("voucher", "scheme", …) in `status` may undergo `action`."""
    return status in ACTIONS[kind][action]


def voucher_allows(status: str, action: str) -> bool:
    """Whether a voucher in `status` may undergo `action` (a key of VOUCHER_ACTIONS)."""
    return allows("voucher", status, action)


# Statuses that count against a scheme's limit of active vouchers per beneficiary.
OPEN_VOUCHER_STATUSES = frozenset({_V.ACTIVE, _V.SUSPENDED})
