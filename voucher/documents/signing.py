"""The ente's Ed25519 keys and the compact JWS (RFC 7515, EdDSA per RFC 8037) in each QR code.

Keys live as PEM files in the instance folder (or the first comes from SIGNING_KEY). The
newest signs; every key verifies, so rotating never invalidates vouchers already printed.
"""

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

ROME = ZoneInfo("Europe/Rome")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: Ed25519PublicKey) -> dict:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint, used as the key id."""
    jwk = public_jwk(public_key)
    canonical = json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()
    return _b64url(hashlib.sha256(canonical).digest())


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def from_pem(cls, pem: bytes) -> "SigningKey":
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key must be an Ed25519 private key")
        return cls(kid=thumbprint(key.public_key()), private_key=key)

    def jwk(self) -> dict:
        return {
            **public_jwk(self.private_key.public_key()),
            "kid": self.kid,
            "use": "sig",
            "alg": "EdDSA",
        }


def _write_new_key(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = directory / f"{stamp}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return path


class KeyRing:
    """All known keys, newest first. The first one signs."""

    def __init__(self, keys: list[SigningKey]):
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self.keys = keys
        self._by_kid = {k.kid: k for k in keys}

    @classmethod
    def load(cls, directory: str, env_pem: str | None = None) -> "KeyRing":
        """Load the keys, generating the first one on first start unless SIGNING_KEY is set."""
        path = Path(directory)
        files = sorted(path.glob("*.pem"), reverse=True) if path.is_dir() else []
        keys = [SigningKey.from_pem(f.read_bytes()) for f in files]
        if env_pem:
            keys.insert(0, SigningKey.from_pem(env_pem.encode()))
        elif not keys:
            keys = [SigningKey.from_pem(_write_new_key(path).read_bytes())]
        return cls(keys)

    @staticmethod
    def rotate(directory: str) -> str:
        """Create a new signing key; older keys keep verifying. Returns the new key id."""
        path = _write_new_key(Path(directory))
        return SigningKey.from_pem(path.read_bytes()).kid

    @property
    def active(self) -> SigningKey:
        return self.keys[0]

    def jwks(self) -> dict:
        return {"keys": [k.jwk() for k in self.keys]}

    def sign(self, claims: dict) -> str:
        key = self.active
        return jwt.encode(
            claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid, "typ": "JWT"}
        )

    def verify(self, token: str, *, check_exp: bool = False) -> dict:
        """The claims of a payload signed by one of our keys; raises jwt.InvalidTokenError."""
        header = jwt.get_unverified_header(token)
        key = self._by_kid.get(header.get("kid"))
        if key is None or header.get("alg") != "EdDSA":
            raise jwt.InvalidSignatureError("unknown key or algorithm")
        return jwt.decode(
            token,
            key.private_key.public_key(),
            algorithms=["EdDSA"],
            options={"verify_exp": check_exp, "verify_nbf": False, "require": ["code", "exp"]},
        )


def end_of_day_epoch(day: date) -> int:
    """Seconds since the epoch at the end of `day` in Italy: a voucher is valid all day."""
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=ROME)
    return int(end.timestamp())


def voucher_claims(code: str, valid_from: date, valid_until: date, issuer: str) -> dict:
    """The QR claims: the code and validity, never personal data."""
    start = datetime.combine(valid_from, time.min, tzinfo=ROME)
    return {
        "iss": issuer,
        "code": code,
        "nbf": int(start.timestamp()),
        "exp": end_of_day_epoch(valid_until),
    }


def keyring() -> KeyRing:
    return current_app.extensions["voucher.keyring"]
