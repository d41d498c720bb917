"""The service provider's key and certificate, kept in the instance folder.

SPID and CIE identify a service provider by the certificate in its metadata: the Avviso
SPID n.29 v3 and the "Regole tecniche" ask for a self-signed RSA certificate whose subject
names the ente (organizationIdentifier `PA:IT-<codice IPA>`, the entity ID as `uri`) and
whose policies are AgID's (1.3.76.16.6, and 1.3.76.16.4.2.1 for a public administration).
On first start one is generated so that a development server works at once; in production
the ente puts its own there (or points SPID_KEY_FILE and SPID_CERT_FILE at it).
"""

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

# The subject attributes the SPID certificate profile adds to X.520's usual ones.
URI_OID = x509.ObjectIdentifier("2.5.4.83")
ORGANIZATION_IDENTIFIER_OID = x509.ObjectIdentifier("2.5.4.97")
AGID_POLICIES = (
    ("1.3.76.16", "AgIDroot"),
    ("1.3.76.16.6", "agIDcert"),
    ("1.3.76.16.4.2.1", "cert_SP_Pub"),
)
KEY_SIZE = 3072
VALIDITY_DAYS = 730


@dataclass(frozen=True)
class Subject:
    """Who the certificate names."""

    organization: str
    ipa_code: str
    entity_id: str
    locality: str


def ensure_key_pair(key_file: str, cert_file: str, subject: Subject) -> None:
    """Create the key and the self-signed certificate when either file is missing."""
    if Path(key_file).is_file() and Path(cert_file).is_file():
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    certificate = self_signed_certificate(key, subject)
    _write(
        key_file,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
        0o600,
    )
    _write(cert_file, certificate.public_bytes(serialization.Encoding.PEM), 0o644)


def self_signed_certificate(key: rsa.RSAPrivateKey, subject: Subject) -> x509.Certificate:
    """A certificate of the SPID public-sector profile, signed by its own key."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject.organization),
            x509.NameAttribute(NameOID.COMMON_NAME, subject.organization),
            x509.NameAttribute(URI_OID, subject.entity_id),
            x509.NameAttribute(ORGANIZATION_IDENTIFIER_OID, f"PA:IT-{subject.ipa_code}"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "IT"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, subject.locality),
        ]
    )
    now = datetime.now(UTC)
    policies = [
        x509.PolicyInformation(x509.ObjectIdentifier(oid), [x509.UserNotice(None, text)])
        for oid, text in AGID_POLICIES
    ]
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .add_extension(usage, critical=True)
        .add_extension(x509.CertificatePolicies(policies), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )


def certificate_body(cert_file: str) -> str:
    """The certificate as the base64 text of an X509Certificate element (no PEM armour)."""
    lines = Path(cert_file).read_text().strip().splitlines()
    return "".join(line for line in lines if not line.startswith("-----"))


def _write(path: str, data: bytes, mode: int) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
