"""QR codes: the fast encoder places exactly the modules the qrcode package places, and every
rendering decodes with a real decoder."""

import io
import secrets

import pymupdf
import pytest
import qrcode
from PIL import Image
from qrcode import util as qr_util

from voucher.documents import qr

from .support import decode_qr

# A payload of the length and alphabet of a real voucher's compact JWS.
JWS_LIKE = ".".join(secrets.token_urlsafe(n) for n in (80, 90, 64))


def reference_matrix(data: str) -> list[list[bool]]:
    """The symbol as the qrcode package builds it with the same settings and no border."""
    payload = data.encode()
    code = qrcode.QRCode(
        error_correction=qr.ERROR_CORRECTION, border=0, mask_pattern=qr.MASK_PATTERN
    )
    code.add_data(qr_util.QRData(payload, mode=qr_util.MODE_8BIT_BYTE))
    code.make(fit=True)
    return code.get_matrix()


def matrix_image(matrix: list[list[bool]], scale: int = 6) -> Image.Image:
    """The matrix as black squares on white, with the quiet zone."""
    size = len(matrix) + 2 * qr.QUIET_ZONE
    image = Image.new("L", (size, size), 255)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                image.putpixel((c + qr.QUIET_ZONE, r + qr.QUIET_ZONE), 0)
    return image.resize((size * scale, size * scale), Image.NEAREST)


@pytest.mark.parametrize("length", [1, 17, 78, 200, 313, 330, 331, 332, 700, 1500, 2331])
def test_matrix_is_the_one_qrcode_builds(length):
    data = secrets.token_urlsafe(length)[:length]
    assert qr.qr_matrix(data) == reference_matrix(data)


def test_matrix_of_non_ascii_text_is_the_one_qrcode_builds():
    data = "Società «Aurora» — € 25,00"
    assert qr.qr_matrix(data) == reference_matrix(data)


def test_rows_and_matrix_agree():
    rows = qr.qr_rows(JWS_LIKE)
    assert qr.qr_matrix(JWS_LIKE) == [[ch == "1" for ch in row] for row in rows]
    assert all(len(row) == len(rows) for row in rows)


def test_same_payload_same_symbol():
    assert qr.qr_rows(JWS_LIKE) == qr.qr_rows(JWS_LIKE)


def test_matrix_decodes():
    assert decode_qr(matrix_image(qr.qr_matrix(JWS_LIKE))) == [JWS_LIKE]


def test_png_decodes_and_has_the_quiet_zone():
    png = qr.qr_png(JWS_LIKE, scale=4)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    side = (len(qr.qr_rows(JWS_LIKE)) + 2 * qr.QUIET_ZONE) * 4
    assert image.size == (side, side)
    assert decode_qr(image.convert("L")) == [JWS_LIKE]


def test_svg_decodes():
    svg = qr.qr_svg(JWS_LIKE)
    assert svg.startswith(b"<?xml") or svg.lstrip().startswith(b"<svg")
    with pymupdf.open(stream=svg, filetype="svg") as document:
        pixmap = document[0].get_pixmap(dpi=300)
        image = Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
    assert decode_qr(image) == [JWS_LIKE]


def test_images_show_the_same_symbol_as_the_matrix():
    png = Image.open(io.BytesIO(qr.qr_png(JWS_LIKE, scale=1))).convert("L")
    matrix = qr.qr_matrix(JWS_LIKE)
    q = qr.QUIET_ZONE
    assert [
        [png.getpixel((c + q, r + q)) < 128 for c in range(len(matrix))] for r in range(len(matrix))
    ] == matrix


def test_data_too_long_for_any_symbol():
    with pytest.raises(ValueError):
        qr.qr_rows("x" * 3000)
