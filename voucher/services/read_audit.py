"""Reads of special-category personal data, audited: who, what, when and why.

The Garante per la protezione dei dati personali expects access logs for social and health
records (GDPR art. 5(2) and 32). Opening a person's or a voucher's page, looking people up,
reading them through the API and printing letters each leave one event per request: a list
of search results is one event naming the ids it found. An event names the object (type and
id) and the purpose, never the personal data itself, and never the text searched for.
"""

from ..models import Beneficiary, Voucher
from . import Actor, audit, reach

# The action family of reads, which the audit-log page filters on.
READ_ACTIONS = (
    "beneficiary.read",
    "beneficiary.searched",
    "voucher.read",
    "voucher.letter_read",
    "access.break_glass",
)

# Why the data was read: the purpose kept in each event.
CONSULTATION = "consultazione"
SEARCH_BY_FISCAL_CODE = "ricerca per codice fiscale"
SEARCH_BY_NAME = "ricerca per nome"
LETTER = "stampa lettera"
DUPLICATE_CHECK = "verifica codice fiscale già registrato"


def record_read(
    actor: Actor,
    record: Beneficiary | Voucher,
    purpose: str = CONSULTATION,
    *,
    action: str | None = None,
) -> None:
    """One read of a person or a voucher. Through a break-glass access, the purpose is the
    reason given for it."""
    kind = reach.kind_of(record)
    data: dict = {"purpose": purpose}
    grant = reach.grant_in_use(actor, record)
    if grant is not None:
        data.update(purpose=grant.reason, break_glass=grant.id)
    if isinstance(record, Voucher):
        data["code"] = record.code  # the voucher's own events name it by code
    audit.record(actor, action or f"{kind}.read", kind, record.id, **data)


def record_search(
    actor: Actor, found: list[Beneficiary], purpose: str, *, outside: int | None = None
) -> None:
    """One search, with the ids of the people it showed (never the text searched for), and
    the id of a person outside the social worker's Comuni whose codice fiscale it matched."""
    data: dict = {"purpose": purpose, "ids": [p.id for p in found]}
    if outside is not None:
        data["outside_team"] = outside
    audit.record(actor, "beneficiary.searched", "beneficiary", None, **data)


def search_purpose(text: str) -> str:
    """A search by codice fiscale (letters and digits, no space) or by name."""
    text = (text or "").strip()
    looks_like_code = text.isalnum() and any(c.isdigit() for c in text)
    return SEARCH_BY_FISCAL_CODE if looks_like_code else SEARCH_BY_NAME
