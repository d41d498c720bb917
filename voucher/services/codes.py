"""Voucher codes and PINs.

A code carries 75 random bits in 15 Crockford base-32 characters (no I, L, O or U, so it
reads aloud and types without confusion) plus an ISO 7064 check character, shown in four
groups of four: K7QM-3XRT-9WBC-HN4P.
"""

import hashlib
import hmac
import secrets

from stdnum.iso7064 import mod_37_36

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DATA_LENGTH = 15
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def _check_character(data: str) -> str:
    return mod_37_36.calc_check_digit(data, alphabet=ALPHABET)


def generate_code() -> str:
    data = "".join(secrets.choice(ALPHABET) for _ in range(_DATA_LENGTH))
    return format_code(data + _check_character(data))


def format_code(compact: str) -> str:
    return "-".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def normalise_code(text: str) -> str | None:
    """The canonical form of a typed code, or None when it cannot be a voucher code."""
    compact = "".join(ch for ch in text.upper() if ch.isalnum()).translate(_CONFUSABLE)
    if len(compact) != _DATA_LENGTH + 1 or any(ch not in ALPHABET for ch in compact):
        return None
    if _check_character(compact[:-1]) != compact[-1]:
        return None
    return format_code(compact)


def generate_pin() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def hash_pin(pepper: str, salt: str, pin: str) -> str:
    """A keyed digest: without the server's secret, a leaked table reveals no PIN.

    Brute force online is stopped by the lockout, offline by the secret pepper; a slow KDF
    would add nothing for a six-digit PIN and would cost seconds in bulk issuance.
    """
    return hmac.new(pepper.encode(), f"{salt}:{pin}".encode(), hashlib.sha256).hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def pin_matches(pepper: str, salt: str, pin: str, expected: str) -> bool:
    return hmac.compare_digest(hash_pin(pepper, salt, pin), expected)
