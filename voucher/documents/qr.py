"""QR codes for vouchers: the module matrix (for vector drawing in the letters), and PNG and SVG
images for screens.

Every code uses error correction M, byte mode and one fixed mask pattern, so the same payload
always gives the same symbol. The matrix comes from a table-driven encoder that places exactly
the modules the `qrcode` package places for those settings (the tests compare the two): it is
what lets a batch of ten thousand letters be printed in seconds, where running `qrcode` itself
would cost milliseconds per voucher. PNG and SVG go through `qrcode`'s own image factories.
"""

import io
from functools import lru_cache
from operator import itemgetter

import qrcode
from qrcode import base as qr_base
from qrcode import util as qr_util
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage

ERROR_CORRECTION = ERROR_CORRECT_M
# Fixed, so the encoder does not build and score all eight masks for every voucher: the payload
# is high-entropy base64url, for which any mask reads equally well.
MASK_PATTERN = 0
QUIET_ZONE = 4  # modules of light margin on every side (ISO/IEC 18004)
_BYTE_MODE = qr_util.MODE_8BIT_BYTE
_PAD_BYTES = bytes((qr_util.PAD0, qr_util.PAD1))  # alternating filler after the data


def _gf256_tables() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Powers and logarithms of α in GF(256) with the QR code's primitive polynomial
    x^8 + x^4 + x^3 + x^2 + 1; the powers run twice round so that sums of logarithms need
    no modulo."""
    exp, log = [0] * 512, [0] * 256
    value = 1
    for i in range(255):
        exp[i] = exp[i + 255] = value
        log[value] = i
        value <<= 1
        if value & 0x100:
            value ^= 0x11D
    return tuple(exp), tuple(log)


_EXP, _LOG = _gf256_tables()


@lru_cache(maxsize=64)
def _product_table(degree: int) -> tuple[int, ...]:
    """For each byte f, f times the Reed-Solomon generator polynomial of `degree` (without its
    leading 1), packed into one integer of `degree` bytes, so that one division step is a
    shift and an exclusive or."""
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, coef in enumerate(poly):
            nxt[j] ^= coef
            if coef:
                nxt[j + 1] ^= _EXP[_LOG[coef] + i]
        poly = nxt
    logs = [_LOG[c] for c in poly[1:]]
    table = [0]
    for factor in range(1, 256):
        shift = _LOG[factor]
        table.append(int.from_bytes(bytes(_EXP[shift + g] for g in logs), "big"))
    return tuple(table)


def _ec_codewords(data: bytes, degree: int) -> bytes:
    """The remainder of data(x)·x^degree divided by the generator: the block's EC codewords."""
    table = _product_table(degree)
    top = 8 * (degree - 1)
    full = (1 << 8 * degree) - 1
    rem = 0
    for byte in data:
        rem = ((rem << 8) & full) ^ table[byte ^ (rem >> top)]
    return rem.to_bytes(degree, "big")


def _version_for(length: int) -> int:
    limits = qr_util.BIT_LIMIT_TABLE[ERROR_CORRECTION]
    for version in range(1, 41):
        needed = 4 + qr_util.length_in_bits(_BYTE_MODE, version) + 8 * length
        if needed <= limits[version]:
            return version
    raise ValueError("the data is too long for a QR code")


def _codewords(payload: bytes, version: int) -> bytes:
    """Data and error-correction codewords, interleaved as the symbol carries them."""
    count_bits = qr_util.length_in_bits(_BYTE_MODE, version)
    capacity = qr_util.BIT_LIMIT_TABLE[ERROR_CORRECTION][version]
    length = 4 + count_bits + 8 * len(payload)
    bits = ((_BYTE_MODE << count_bits | len(payload)) << 8 * len(payload)) | int.from_bytes(
        payload, "big"
    )
    tail = min(capacity - length, 4)  # the terminator, then up to the byte boundary
    tail += -(length + tail) % 8
    data = (bits << tail).to_bytes((length + tail) // 8, "big")
    padding = capacity // 8 - len(data)
    data += (_PAD_BYTES * (padding // 2 + 1))[:padding]

    blocks, ecs, offset = [], [], 0
    for block in qr_base.rs_blocks(version, ERROR_CORRECTION):
        chunk = data[offset : offset + block.data_count]
        offset += block.data_count
        blocks.append(chunk)
        ecs.append(_ec_codewords(chunk, block.total_count - block.data_count))
    return _interleave(blocks) + _interleave(ecs)


def _interleave(parts: list[bytes]) -> bytes:
    """First byte of each part, then the second of each, and so on (shorter parts end early)."""
    shortest = min(map(len, parts))
    out = b"".join(map(bytes, zip(*parts, strict=False)))
    for i in range(shortest, max(map(len, parts))):
        out += bytes(p[i] for p in parts if len(p) > i)
    return out


class _LayoutProbe(qrcode.QRCode):
    """A QRCode that stops before placing data: its modules hold the function patterns,
    format and version information, and None where data goes."""

    def map_data(self, data, mask_pattern):
        self.blank = [row[:] for row in self.modules]


class _Layout:
    """Where each data bit of a symbol version goes, with the mask already folded in."""

    def __init__(self, version: int):
        probe = _LayoutProbe(
            version=version,
            error_correction=ERROR_CORRECTION,
            border=0,
            mask_pattern=MASK_PATTERN,
        )
        probe.data_cache = []
        probe.makeImpl(False, MASK_PATTERN)
        blank = probe.blank
        size = len(blank)
        mask = qr_util.mask_func(MASK_PATTERN)
        order = []  # (row, col) of each data module, in placement order
        row, step = size - 1, -1
        for col in range(size - 1, 0, -2):
            if col <= 6:
                col -= 1  # skip the vertical timing pattern
            while 0 <= row < size:
                for c in (col, col - 1):
                    if blank[row][c] is None:
                        order.append((row, c))
                row += step
            row -= step
            step = -step
        self.size = size
        self.data_modules = len(order)
        self.mask_bits = int("".join("1" if mask(r, c) else "0" for r, c in order), 2)
        # Gather from the data bits followed by "01": light fixed modules read the "0",
        # dark ones the "1".
        source_index = {pos: i for i, pos in enumerate(order)}
        light, dark = len(order), len(order) + 1
        gather = []
        for r in range(size):
            for c in range(size):
                cell = blank[r][c]
                gather.append(source_index[(r, c)] if cell is None else dark if cell else light)
        self.gather = itemgetter(*gather)


@lru_cache(maxsize=8)
def _layout(version: int) -> _Layout:
    return _Layout(version)


def qr_rows(data: str) -> list[str]:
    """The symbol (without quiet zone) as rows of "1" (dark) and "0" (light)."""
    payload = data.encode("utf-8")
    version = _version_for(len(payload))
    layout = _layout(version)
    words = _codewords(payload, version)
    spare = layout.data_modules - 8 * len(words)  # remainder bits are light before masking
    bits = (int.from_bytes(words, "big") << spare) ^ layout.mask_bits
    cells = "".join(layout.gather(format(bits, f"0{layout.data_modules}b") + "01"))
    size = layout.size
    return [cells[i : i + size] for i in range(0, size * size, size)]


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules of the symbol (True is dark), without the quiet zone."""
    return [[ch == "1" for ch in row] for row in qr_rows(data)]


def _qrcode(data: str, box_size: int = 10) -> qrcode.QRCode:
    """The same symbol built by the `qrcode` package, for its image factories."""
    payload = data.encode("utf-8")
    code = qrcode.QRCode(
        version=_version_for(len(payload)),
        error_correction=ERROR_CORRECTION,
        box_size=box_size,
        border=QUIET_ZONE,
        mask_pattern=MASK_PATTERN,
    )
    code.add_data(qr_util.QRData(payload, mode=_BYTE_MODE))
    code.make(fit=False)
    return code


def qr_png(data: str, scale: int = 8) -> bytes:
    """A PNG of the QR code, `scale` pixels per module, quiet zone included."""
    image = _qrcode(data, box_size=scale).make_image(image_factory=PilImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_svg(data: str) -> bytes:
    """An SVG of the QR code as one path, quiet zone included, for screens."""
    return _qrcode(data).make_image(image_factory=SvgPathImage).to_string(encoding="UTF-8")
