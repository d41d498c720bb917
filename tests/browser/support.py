"""Helpers of the browser tests: launching Debian's Chromium, signing in, console errors,
axe-core, and a fake camera's video."""

import io
import os
from pathlib import Path

from PIL import Image

from tests import factories as f
from voucher.documents.qr import qr_png

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
FIRST_NAME, LAST_NAME = "Ermenegilda", "Pandolfini"


def launch(playwright, *extra_args):
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args], headless=True
    )


# Known and harmless (static/vendor/README.md): Bootstrap Italia's bundle injects a few inline
# <style> elements that the CSP blocks; browsers also ask for /favicon.ico on their own.
_TOLERATED = ("/vendor/bootstrap-italia/", "/favicon.ico")


def console_error(tab, message) -> None:
    source = (message.location or {}).get("url", "")
    if message.type == "error" and not any(part in source for part in _TOLERATED):
        tab.errors.append(f"{message.text} ({source})")


def sign_in(tab, username: str) -> None:
    tab.goto("/accesso")
    tab.fill("#username", username)
    tab.fill("#password", f.PASSWORD)
    tab.click("form button[type=submit]:has-text('Accedi')")
    tab.wait_for_url(lambda url: "/accesso" not in url)


def axe_violations(tab, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's WCAG 2.x A/AA violations of the page at the given impacts. The script is
    evaluated through the browser's debugging protocol, never served to users."""
    tab.evaluate(AXE.read_text(encoding="utf-8"))
    result = tab.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def fake_camera_video(payload: str) -> bytes:
    """One 640×480 frame showing the QR code of `payload`, as Chromium's fake camera reads
    it (YUV4MPEG2, 4:2:0: the picture in the luma plane, neutral chroma)."""
    symbol = Image.open(io.BytesIO(qr_png(payload, scale=4))).convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(symbol, ((640 - symbol.width) // 2, (480 - symbol.height) // 2))
    chroma = bytes([128]) * (320 * 240)
    header = b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n"
    return header + b"FRAME\n" + frame.tobytes() + chroma + chroma
