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
    text carries the meaning, the colour only repeats it."""

    @property
    def label(self):
        return self._labels()[self][0]

    @property
    def badge(self) -> str:
        return self._labels()[self][1]

    @classmethod
    def _labels(cls) -> dict:
        raise NotImplementedError


class VoucherStatus(_Labelled):
    ACTIVE = "active"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUSPENDED = "suspended"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.ACTIVE: (_l("Attivo"), "success"),
            cls.EXHAUSTED: (_l("Esaurito"), "secondary"),
            cls.EXPIRED: (_l("Scaduto"), "secondary"),
            cls.REVOKED: (_l("Revocato"), "danger"),
            cls.SUSPENDED: (_l("Sospeso"), "warning"),
        }


class SchemeStatus(_Labelled):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.DRAFT: (_l("Bozza"), "secondary"),
            cls.ACTIVE: (_l("Attiva"), "success"),
            cls.CLOSED: (_l("Chiusa"), "dark"),
        }


class ProviderStatus(_Labelled):
    ACTIVE = "active"
    SUSPENDED = "suspended"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.ACTIVE: (_l("Attivo"), "success"),
            cls.SUSPENDED: (_l("Sospeso"), "danger"),
        }


class StatementStatus(_Labelled):
    OPEN = "open"  # a month not yet approved: it has no row
    APPROVED = "approved"
    PAID = "paid"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.OPEN: (_l("aperto"), "secondary"),
            cls.APPROVED: (_l("approvato"), "primary"),
            cls.PAID: (_l("pagato"), "success"),
        }


class BatchStatus(_Labelled):
    DRAFT = "draft"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.DRAFT: (_l("Da confermare"), "secondary"),
            cls.QUEUED: (_l("In coda"), "info"),
            cls.RUNNING: (_l("In elaborazione"), "primary"),
            cls.DONE: (_l("Completato"), "success"),
            cls.FAILED: (_l("Interrotto da un errore"), "danger"),
        }


class LedgerKind(_Labelled):
    """A ledger entry: a service delivered, or the reversal that compensates one."""

    REDEMPTION = "redemption"
    REVERSAL = "reversal"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.REDEMPTION: (_l("Prestazione"), "primary"),
            cls.REVERSAL: (_l("Storno"), "warning"),
        }


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
