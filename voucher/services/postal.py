"""The addressee's lines on a letter: the street as registered, and the Comune only when the
street does not already end with it ("Via Roma 12, 50019 Sesto Fiorentino (FI)" is not
followed by "Sesto Fiorentino" again)."""

import re


def _ends_with_comune(address: str, comune: str) -> bool:
    """Whether the last part of the address (after a comma, a line break, a dash or a postal
    code) names the Comune, with or without its province: "…, Fiesole", "… 50014 Fiesole
    (FI)". A street named after a town ("Via Roma 1" in Roma) does not count."""
    before = r"(?:^|[,\n–-]|\b\d{5})\s*"
    province = r"(?:\s*\(\s*[A-Za-z]{2}\s*\)|\s+[A-Za-z]{2})?"
    pattern = before + re.escape(comune) + province + r"\.?\s*$"
    return re.search(pattern, address.strip(), re.IGNORECASE) is not None


def postal_address(address: str | None, comune: str | None) -> str:
    """The address lines under the addressee's name, one per line; empty without an address."""
    address = (address or "").strip()
    if not address:
        return ""
    comune = (comune or "").strip()
    if not comune or _ends_with_comune(address, comune):
        return address
    return f"{address}\n{comune}"
