"""Voucher codes and PINs.

A code carries 75 random bits in 15 Crockford base-32 characters (no I, L, O or U, so it
reads aloud and types without confusion) plus a check character, shown in four groups of
four: K7QM-3XRT-9WBC-HN44.

The check character is a parity symbol over GF(32): each character's value vᵢ is weighted by
αⁱ and the weighted sum of all sixteen is zero. A changed character alters the sum by αⁱ·Δ,
and two swapped neighbours by αⁱ·(a+b)·(1+α), both non-zero, so every single typo and every
adjacent transposition is caught (ISO 7064 MOD 33,32 would miss some transpositions: 33 is
not prime).
"""

import hashlib
import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DATA_LENGTH = 15
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
_GF32_MODULUS = 0b100101  # x⁵ + x² + 1, primitive: α = x has order 31


def _gf32_mul(a: int, b: int) -> int:
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= _GF32_MODULUS
    return product


# GF(32) multiplication by table, and each symbol's value: a code is checked on every
# redemption.
_MUL = [[_gf32_mul(a, b) for b in range(32)] for a in range(32)]
_VALUE = {ch: value for value, ch in enumerate(ALPHABET)}


def _check_character(data: str) -> str:
    """The symbol c for which Σ αⁱ·vᵢ + αⁿ·c = 0 over GF(32), n = len(data)."""
    total, weight = 0, 1
    for ch in data:
        total ^= _MUL[weight][_VALUE[ch]]
        weight = _MUL[weight][2]
    inverse = 1  # weight⁻¹ = weight³⁰, since α³¹ = 1
    for _ in range(30):
        inverse = _MUL[inverse][weight]
    return ALPHABET[_MUL[total][inverse]]


def generate_code() -> str:
    """A new random voucher code with its check character, formatted."""
    data = "".join(secrets.choice(ALPHABET) for _ in range(_DATA_LENGTH))
    return format_code(data + _check_character(data))


def format_code(compact: str) -> str:
    """A compact code in groups of four characters: XXXX-XXXX-XXXX-XXXX."""
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
    """A new random six-digit PIN."""
    return f"{secrets.randbelow(10**6):06d}"


def hash_pin(pepper: str, salt: str, pin: str) -> str:
    """A keyed digest: without the server's secret, a leaked table reveals no PIN.

    Brute force online is stopped by the lockout, offline by the secret pepper; a slow KDF
    would add nothing for a six-digit PIN and would cost seconds in bulk issuance.
    """
    return hmac.new(pepper.encode(), f"{salt}:{pin}".encode(), hashlib.sha256).hexdigest()


def new_salt() -> str:
    """A new random salt for a PIN's digest."""
    return secrets.token_hex(16)


def pin_matches(pepper: str, salt: str, pin: str, expected: str) -> bool:
    """Whether `pin` is the one whose digest is `expected` (in constant time)."""
    return hmac.compare_digest(hash_pin(pepper, salt, pin), expected)
