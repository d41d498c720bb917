"""Helpers of the browser tests: serving the application, launching Debian's Chromium,
opening a tab, signing in, console errors, axe-core, and a fake camera's video."""

import functools
import io
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image
from werkzeug.serving import make_server

from tests import factories as f
from voucher.documents.qr import qr_png
from voucher.extensions import db

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
PHONE = {"width": 412, "height": 915}  # providers at the door and families
DESKTOP = {"width": 1280, "height": 900}  # the ente's offices
# Generous: CI runs the suite on every core, and a decode plus a post can wait its turn.
DEFAULT_WAIT_MS = 30_000


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve `app` with werkzeug on a free port of 127.0.0.1, in a thread; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()


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


def open_tab(browser, base_url: str, viewport: dict = PHONE):
    """A fresh browser context (no cookies) and its tab; console errors (a CSP violation, a
    script error) are collected in `tab.errors`. Close it with `tab.context.close()`."""
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="it-IT")
    context.set_default_timeout(DEFAULT_WAIT_MS)
    tab = context.new_page()
    tab.errors = []
    tab.on("console", lambda message: console_error(tab, message))
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    return tab


def sign_in(tab, username: str) -> None:
    tab.goto("/accesso")
    tab.fill("#username", username)
    tab.fill("#password", f.PASSWORD)
    tab.click("form button[type=submit]:has-text('Accedi')")
    tab.wait_for_url(lambda url: "/accesso" not in url)


def axe_violations(tab, impacts=("serious", "critical"), exclude=()) -> list[dict]:
    """axe-core's WCAG 2.x A/AA violations of the page at the given impacts, leaving out the
    elements matched by the `exclude` selectors. The script is evaluated through the
    browser's debugging protocol, never served to users."""
    tab.evaluate(_axe_source())
    result = tab.evaluate(
        """(exclude) => axe.run({include: [["html"]], exclude: exclude.map((s) => [s])},
            {resultTypes: ["violations"], runOnly: {type: "tag",
             values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})""",
        list(exclude),
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def describe_violations(where: str, violations: list[dict]) -> list[str]:
    """One line per violation: where it was found, the rule, its impact and the elements."""
    return [f"{where}: {v['id']} ({v['impact']}) at {v['nodes']}" for v in violations]


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def fake_camera_video(payload: str) -> bytes:
    """One 640×480 frame showing the QR code of `payload`, as Chromium's fake camera reads
    it (YUV4MPEG2, 4:2:0: the picture in the luma plane, neutral chroma)."""
    symbol = Image.open(io.BytesIO(qr_png(payload, scale=4))).convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(symbol, ((640 - symbol.width) // 2, (480 - symbol.height) // 2))
    chroma = bytes([128]) * (320 * 240)
    header = b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n"
    return header + b"FRAME\n" + frame.tobytes() + chroma + chroma
