"""The scan page on a slow line: it is usable (code field focused, script ready) without the
QR reader's library, which is fetched only when a photo (or the camera) is chosen, and a
failed fetch is said and can be tried again."""

import pytest

from tests.browser.support import sign_in
from voucher.documents.qr import qr_png

pytestmark = pytest.mark.browser

READER = "zxing-browser"


def test_the_reader_is_fetched_only_when_a_photo_is_chosen(page, live, tmp_path):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, live.operator)
    page.goto("/fornitore/")
    page.wait_for_selector("#scan-form[data-ready]", state="attached")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.activeElement.id") == "voucher"
    assert page.is_visible("#qr-reader")
    assert not [url for url in requested if READER in url]
    assert page.evaluate("performance.getEntriesByName('scan-ready').length") == 1

    # The line drops while the library is fetched: the page says so, and the next try works.
    page.route(f"**/*{READER}*", lambda route: route.abort())
    photo = tmp_path / "buono.png"
    photo.write_bytes(qr_png(live.payload, scale=6))
    page.set_input_files("#qr-photo", str(photo))
    unavailable = page.get_attribute("#qr-reader", "data-msg-unavailable")
    page.wait_for_function(
        "(text) => document.getElementById('qr-status').textContent === text", arg=unavailable
    )
    page.unroute(f"**/*{READER}*")
    page.set_input_files("#qr-photo", str(photo))
    page.wait_for_selector("#voucher-card-title")
    assert live.code in page.inner_text("#voucher-card-title")
    fetched = [url for url in requested if READER in url]
    assert len(fetched) == 2  # the failed try and the good one
    page.errors = [e for e in page.errors if "net::ERR_FAILED" not in e]
    assert page.errors == []
