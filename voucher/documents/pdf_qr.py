"""A QR code drawn into a PDF as vector squares: the dark modules of each row become a few
rectangles, looked up per 8-module slice, in one filled path. Sharp at any printer
resolution, and fast enough for a batch of ten thousand letters."""

import re

from reportlab.pdfgen.canvas import Canvas

from .qr import QUIET_ZONE, qr_rows


class _SliceOps(dict):
    """PDF rectangles for the dark runs of one 8-module slice of a row, keyed by the slice's
    "0"/"1" text, with a placeholder for the row: a row's path is then a few lookups instead
    of a scan per module. At most 256 entries per slice position."""

    def __init__(self, first_column: int):
        super().__init__()
        self.first_column = first_column

    def __missing__(self, chunk: str) -> str:
        ops = "".join(
            f"{self.first_column + m.start()} {_ROW} {m.end() - m.start()} 1 re "
            for m in _DARK_RUN.finditer(chunk)
        )
        self[chunk] = ops
        return ops


_ROW = "\x00"
_DARK_RUN = re.compile("1+")
_EIGHT = re.compile(".{1,8}")
_SLICES = [_SliceOps(8 * i) for i in range(23)]  # 23 slices cover the largest symbol (177)
_lookup = dict.__getitem__  # on a dict subclass it still falls back to __missing__


def _qr_path(rows: list[str]) -> str:
    """The dark modules as rectangles in module units, row 0 at the top."""
    out = []
    for r, row in enumerate(rows):
        ops = "".join(map(_lookup, _SLICES, _EIGHT.findall(row)))
        if ops:
            out.append(ops.replace(_ROW, str(r)))
    return "\n".join(out)


def draw_qr(c: Canvas, payload: str, left: float, top: float, side: float) -> None:
    """The QR code as vector squares in a `side`-wide square whose top-left corner is at
    (left, top): one filled path, drawn in a coordinate system of one unit per module with
    rows going down, inside its quiet zone."""
    rows = qr_rows(payload)
    module = side / (len(rows) + 2 * QUIET_ZONE)
    x0 = left + QUIET_ZONE * module
    y0 = top - QUIET_ZONE * module
    c.addLiteral(
        f"q 0 g {module:.5f} 0 0 {-module:.5f} {x0:.3f} {y0:.3f} cm\n{_qr_path(rows)}\nf Q"
    )
