"""A provider operator at the door, in a real browser: a typed code, a barcode scanner, a
photo of the QR code and the phone camera all lead to the voucher's card; the live preview
follows the typing; preview, confirmation and receipt; no serious accessibility issue."""

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs

import pytest
from PIL import Image, ImageFilter

from tests.browser.support import (
    FIRST_NAME,
    LAST_NAME,
    axe_violations,
    fake_camera_video,
    launch,
    sign_in,
)
from voucher.documents.qr import qr_png

pytestmark = pytest.mark.browser


def messy(code: str) -> str:
    return code.replace("-", " ").lower()


def open_card(tab, live, typed: str) -> None:
    sign_in(tab, live.operator)
    tab.goto("/fornitore/")
    tab.fill("#voucher", typed)
    tab.press("#voucher", "Enter")
    tab.wait_for_selector("#voucher-card-title")
    wait_for_live_preview(tab)


def wait_for_live_preview(tab) -> None:
    """The record form's script has run: typing updates the preview from now on. (Waiting
    for the page's load event is not enough: it may be answered for the scan page that
    was left, before the card's script has even been fetched.)"""
    tab.wait_for_selector("#record-form[data-live-ready]", state="attached")


def no_personal_data(tab, live) -> None:
    html = tab.content()
    assert FIRST_NAME not in html and LAST_NAME not in html


def test_typed_code_live_preview_confirm_and_receipt(page, live):
    open_card(page, live, messy(live.eur_code))
    assert live.eur_code in page.inner_text("#voucher-card-title")
    assert page.inner_text("#card-initials") == f"{FIRST_NAME[0]}.{LAST_NAME[0]}."
    no_personal_data(page, live)

    # The live preview follows the typing, rounding half-up like the server: 0,06 € at 75%.
    assert page.is_hidden("#live-preview")
    page.fill("#amount", "0,06")
    assert page.inner_text("#live-public") == "0,05 €"
    assert page.inner_text("#live-copay") == "0,01 €"
    page.fill("#amount", "")
    page.type("#amount", "12,55")
    assert page.inner_text("#live-cost") == "12,55 €"
    assert page.inner_text("#live-public") == "9,41 €"
    assert page.inner_text("#live-copay") == "3,14 €"
    assert page.inner_text("#live-balance") == "290,59 €"
    assert page.is_hidden("#live-warning")
    page.fill("#amount", "999,00")
    assert "supera il saldo" in page.inner_text("#live-warning")
    page.fill("#amount", "12,55")

    page.click("button:has-text('Anteprima')")
    page.wait_for_selector("#confirm-form")
    assert page.inner_text("#quote-public") == "9,41 €"
    assert page.inner_text("#quote-copay") == "3,14 €"
    page.dblclick("#confirm-button")  # an impatient double click records once
    page.wait_for_selector("#receipt-id")
    assert re.search(r"/fornitore/prestazioni/\d+/ricevuta$", page.url)
    assert page.inner_text("#receipt-voucher") == live.eur_code
    assert page.inner_text("#receipt-public") == "9,41 €"
    assert "Prestazione registrata." in page.inner_text(".app-flashes")
    # The button is shown by the receipt's script: wait for it rather than race it.
    page.wait_for_selector("#print-receipt", state="visible")
    assert page.is_visible("#print-receipt")
    no_personal_data(page, live)

    page.goto("/fornitore/prestazioni")
    assert page.locator("tbody tr").count() == 1
    assert page.errors == []


def test_a_barcode_scanner_types_the_payload_and_enter(page, live):
    sign_in(page, live.operator)
    page.goto("/fornitore/")
    assert page.evaluate("document.activeElement.id") == "voucher"  # focused on arrival
    page.keyboard.type(live.payload + "\n")
    page.wait_for_selector("#voucher-card-title")
    assert live.code in page.inner_text("#voucher-card-title")
    assert live.code not in page.url and "ey" not in page.url
    assert page.errors == []


# A payload shaped like a voucher's (not signed by this application's key) whose symbol has, in
# its data, runs of modules that a row-by-row scan from the top takes for a corner mark: read
# that way only, as a photo at 6 pixels a module or as a camera frame at 4, the library finds
# the wrong corners and reports no code.
MISLEADING_PAYLOAD = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6IkEzSHZ2YzhPak5UWHAybmVHTnk2eThUU01oNjNhdThlRjJNVndrRE9QYUkiLCJ0"
    "eXAiOiJKV1QifQ.eyJpc3MiOiIwMTMwNzExMDQ4NCIsImNvZGUiOiJZUU5YLUZYWVItNlhGSi1IRTFRIiwibmJmIjox"
    "NzY3MjIyMDAwLCJleHAiOjE3OTg3NTgwMDB9.zTDCnBZnafYrp_ZKlQ64ZjbIegYlmxkwX8hpYMjIBy9eUdc_g9keOE"
    "ELG9Zyr4zDvuX1J3n97PIXhdsyY-9TCg"
)
# The scan page's answer to a payload that is none of this ente's vouchers. The tests wait for
# it: closing the browser while the form's navigation is still under way can hang the close.
READ_AGAIN = "text=leggere di nuovo il QR code"
# True once the page has given its verdict on a photo that did not lead to a voucher.
PHOTO_VERDICT = """() => {
    const status = document.getElementById("qr-status").textContent;
    return status !== "" && status !== document.getElementById("qr-reader").dataset.msgReading;
}"""


def phone_photo(payload: str) -> bytes:
    """A 12-megapixel JPEG like a phone's picture of a voucher letter on a desk: the QR code
    small in it and a little turned, printed grey on off-white, slightly out of focus."""
    symbol = Image.open(io.BytesIO(qr_png(payload, scale=8))).convert("L")
    symbol = symbol.rotate(7, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    sheet = Image.new("L", (symbol.width + 300, symbol.height + 300), 235)
    sheet.paste(symbol.point(lambda value: 40 if value < 128 else 235), (150, 150))
    size = (3024, 4032)
    desk = Image.blend(Image.new("L", size, 120), Image.effect_noise(size, 20).convert("L"), 0.3)
    desk.paste(sheet, (900, 2200))
    buffer = io.BytesIO()
    desk.filter(ImageFilter.GaussianBlur(1)).convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def open_scan_page(tab, live) -> None:
    sign_in(tab, live.operator)
    tab.goto("/fornitore/")
    tab.wait_for_selector("#qr-reader", state="visible")
    assert tab.is_visible("#qr-reader")


def test_a_photo_of_the_qr_code(page, live, tmp_path):
    photo = tmp_path / "buono.png"
    photo.write_bytes(qr_png(live.payload, scale=6))
    open_scan_page(page, live)
    page.set_input_files("#qr-photo", str(photo))
    page.wait_for_selector("#voucher-card-title")
    assert live.code in page.inner_text("#voucher-card-title")
    assert page.errors == []


def test_a_symbol_that_misleads_a_scan_from_the_top_is_read(page, live, tmp_path):
    photo = tmp_path / "buono.png"
    photo.write_bytes(qr_png(MISLEADING_PAYLOAD, scale=6))
    open_scan_page(page, live)
    with page.expect_request(lambda request: request.method == "POST") as sent:
        page.set_input_files("#qr-photo", str(photo))
    assert sent.value.url == f"{live.url}/fornitore/"
    assert parse_qs(sent.value.post_data)["voucher"] == [MISLEADING_PAYLOAD]
    page.wait_for_selector(READ_AGAIN)


def test_a_phone_photo_with_the_qr_code_small_in_it(page, live, tmp_path):
    photo = tmp_path / "foto.jpg"
    photo.write_bytes(phone_photo(live.payload))
    open_scan_page(page, live)
    page.set_input_files("#qr-photo", str(photo))
    page.wait_for_selector("#voucher-card-title")
    assert live.code in page.inner_text("#voucher-card-title")
    assert page.errors == []


def test_a_photo_without_a_qr_code_is_explained_and_another_can_follow(page, live, tmp_path):
    blank = tmp_path / "vuota.png"
    Image.new("RGB", (200, 200), "white").save(blank)
    open_scan_page(page, live)
    page.set_input_files("#qr-photo", str(blank))
    page.wait_for_function(PHOTO_VERDICT)
    assert "Nessun QR code leggibile" in page.inner_text("#qr-status")
    # The field is emptied, so that choosing the same file again (retaken, or by mistake)
    # is read again: browsers report no change when the same file is chosen twice.
    assert page.input_value("#qr-photo") == ""

    photo = tmp_path / "buono.png"
    photo.write_bytes(qr_png(live.payload, scale=6))
    page.set_input_files("#qr-photo", str(photo))
    page.wait_for_selector("#voucher-card-title")
    assert live.code in page.inner_text("#voucher-card-title")


@contextmanager
def camera_scan_page(playwright, live, tmp_path, payload: str) -> Iterator:
    """The scan page in a browser whose camera films the QR code of `payload`."""
    video = tmp_path / "camera.y4m"
    video.write_bytes(fake_camera_video(payload))
    camera = launch(
        playwright,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    try:
        context = camera.new_context(base_url=live.url, permissions=["camera"], locale="it-IT")
        tab = context.new_page()
        sign_in(tab, live.operator)
        tab.goto("/fornitore/")
        yield tab
    finally:
        camera.close()


def test_the_phone_camera(playwright, live, tmp_path):
    with camera_scan_page(playwright, live, tmp_path, live.payload) as tab:
        tab.click("#camera-start")
        tab.wait_for_selector("#voucher-card-title", timeout=15_000)
        assert live.code in tab.inner_text("#voucher-card-title")


def test_the_camera_reads_a_symbol_that_misleads_a_scan_from_the_top(playwright, live, tmp_path):
    with camera_scan_page(playwright, live, tmp_path, MISLEADING_PAYLOAD) as tab:
        with tab.expect_request(lambda request: request.method == "POST", timeout=15_000) as sent:
            tab.click("#camera-start")
        assert parse_qs(sent.value.post_data)["voucher"] == [MISLEADING_PAYLOAD]
        tab.wait_for_selector(READ_AGAIN)


def test_no_serious_accessibility_issue_on_the_scan_page_and_the_card(page, live):
    sign_in(page, live.operator)
    page.goto("/fornitore/")
    page.wait_for_selector("#qr-reader:not(.d-none)")
    assert axe_violations(page) == []
    page.fill("#voucher", live.code)
    page.press("#voucher", "Enter")
    page.wait_for_selector("#record-form")
    wait_for_live_preview(page)
    page.fill("#quantity", "1,5")  # the live preview shown too
    assert page.inner_text("#live-cost") == "30,00 €"
    assert axe_violations(page) == []
