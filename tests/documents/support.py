"""Reading what the documents produce the way a person or a scanner would: PDF text, PDF pages
rasterised and QR codes decoded by a real decoder, and the QR payload verified with nothing
but the published keys and the `cryptography` package."""

import base64
import json
from datetime import date

import pymupdf
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from PIL import Image

from voucher.documents.letter import VoucherLetter


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page."""
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        return [page.get_text() for page in document]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(pdf_pages(pdf))


def page_image(pdf: bytes, index: int, dpi: int = 150) -> Image.Image:
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        pixmap = document[index].get_pixmap(dpi=dpi)
        return Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)


def decode_qr(image: Image.Image) -> list[str]:
    """Every QR code a real decoder finds in the image."""
    return [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.QRCode)]


def page_qr_codes(pdf: bytes) -> list[list[str]]:
    """The decoded QR codes of each page of the PDF."""
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        count = len(document)
    return [decode_qr(page_image(pdf, i)) for i in range(count)]


def verify_jws(token: str, jwks: dict) -> tuple[dict, dict]:
    """Verify a compact JWS with EdDSA (Ed25519) against a JWK set, independently of the
    application's own code. Returns the header and the claims; raises on a bad signature."""
    header_part, claims_part, signature_part = token.split(".")
    header = json.loads(b64url_decode(header_part))
    claims = json.loads(b64url_decode(claims_part))
    assert header["alg"] == "EdDSA"
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    public_key = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    public_key.verify(b64url_decode(signature_part), f"{header_part}.{claims_part}".encode())
    return header, claims


def sample_letter(**overrides) -> VoucherLetter:
    """A letter with realistic content; the caller usually sets qr_payload, code and pin."""
    values = dict(
        ente_name="Società della Salute di Prova",
        ente_address="Via dei Servizi 1\n50100 Firenze (FI)",
        beneficiary_name="Maria Rossi",
        beneficiary_address="Via Roma 12\nFirenze",
        scheme_name="Assistenza domiciliare anziani",
        fund_name="Fondo di solidarietà comunale (FSC)",
        services=["Assistenza domiciliare socio-assistenziale", "Pasti a domicilio"],
        value_text="25 ore (500,00 €)",
        coverage_text=(
            "Il buono paga il 70% del costo di ogni servizio; il restante 30% lo paga la "
            "famiglia direttamente al fornitore."
        ),
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
        providers=[("Cooperativa Aurora", "055 123456 · info@aurora.example")],
        qr_payload="not-a-real-payload",
        code="K7QM-3XRT-9WBC-HN44",
        pin="482913",
        balance_url="https://buoni.example.it/saldo",
        issued_on=date(2026, 3, 2),
    )
    values.update(overrides)
    return VoucherLetter(**values)
