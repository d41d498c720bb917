"""The voucher letter as it reaches a family: a social worker issues a voucher in a real
browser and prints the letter with the PIN; the PDF is then read back as an elderly reader
and a provider would. The box shown to the provider holds the QR code and the code but not
the PIN, nothing tells the reader to show the whole sheet, the office to call is printed with
its phone and hours, and the addressee's Comune is written once."""

import re

import pymupdf
import pytest

from tests import factories as f
from tests.browser.support import DESKTOP, axe_violations, open_tab, serve, sign_in
from tests.conftest import make_app
from voucher.documents.letter import PIN_PART, PROVIDER_PART
from voucher.extensions import db
from voucher.services import clock

pytestmark = pytest.mark.browser

SESTO = {"istat_code": "048043", "belfiore_code": "I684", "name": "Sesto Fiorentino"}
ADDRESS = "Via Gramsci 10, 50019 Sesto Fiorentino (FI)"


@pytest.fixture(scope="module")
def office_world(tmp_path_factory):
    """A live application of its own: an ente with its office contacts and Sesto Fiorentino
    among its Comuni, a scheme, a person living there and a social worker."""
    instance = tmp_path_factory.mktemp("instance-letter")
    app = make_app(f"sqlite:///{instance / 'letter.sqlite3'}", instance, WTF_CSRF_ENABLED=True)
    with app.app_context():
        f.make_ente(comuni=(f.FIRENZE, SESTO))
        f.make_office_contacts()
        scheme = f.make_scheme(service_codes=["A1"])
        f.make_provider(services=("A1",), valid_from=clock.today().replace(month=1, day=1))
        person = f.make_beneficiary(comune=SESTO, address=ADDRESS)
        worker = f.make_user("social_worker")
        seeded = {
            "scheme": f"{scheme.name} ({scheme.year})",
            "person_id": person.id,
            "worker": worker.username,
        }
        db.session.remove()
    with serve(app) as url:
        yield url, seeded


def test_the_printed_letter_keeps_the_pin_apart_and_says_whom_to_call(browser, office_world):
    url, seeded = office_world
    desk = open_tab(browser, url, DESKTOP)
    try:
        sign_in(desk, seeded["worker"])
        desk.goto(f"/servizi/beneficiari/{seeded['person_id']}")
        desk.select_option("#misura", label=seeded["scheme"])
        desk.click("button:has-text('Verifica i requisiti')")
        desk.wait_for_selector("#scheme-title")
        desk.click("button:has-text('Conferma ed emetti il buono')")
        desk.wait_for_selector("#pin")
        pin = desk.inner_text("#pin").strip()
        code = desk.inner_text(".app-pin-card dd.font-monospace:not(#pin)").strip()
        with desk.expect_download() as download:
            desk.click("button:has-text('Stampa la lettera con il PIN')")
        data = download.value.path().read_bytes()
        assert axe_violations(desk) == []
        assert desk.errors == []
    finally:
        desk.context.close()

    with pymupdf.open(stream=data, filetype="pdf") as document:
        assert len(document) == 1
        page = document[0]
        text = " ".join(page.get_text().split())
        boxes = [d["rect"] for d in page.get_drawings() if d["rect"].width > 300]
        provider_label = min(page.search_for(PROVIDER_PART.upper()), key=lambda r: r.y0)
        (provider_box,) = [b for b in boxes if b.contains(provider_label)]
        (pin_box,) = [b for b in boxes if b.contains(page.search_for(PIN_PART.upper())[0])]
        (pin_at,) = page.search_for(pin)
        code_at = min(page.search_for(code), key=lambda r: r.y0)

    # What the provider is shown: the QR code and the code, never the PIN.
    assert provider_box.contains(code_at) and not provider_box.intersects(pin_at)
    assert pin_box.contains(pin_at) and not pin_box.intersects(provider_box)
    assert "Al fornitore mostra solo questo riquadro: il PIN è solo per te." in text
    # The contradiction is gone: nothing says to show the sheet, only the provider's box.
    assert not re.search(r"mostra questo foglio", text, re.IGNORECASE)
    assert "mostra al fornitore il riquadro «Da mostrare al fornitore»" in text
    # Whom to call, where the letter says to call.
    call = text.index("Chiama subito i servizi sociali:")
    assert text.index(f"Telefono {f.OFFICE['office_phone']}") > call
    assert text.index(f"Orari {f.OFFICE['office_hours']}") > call
    assert "del tuo Comune" not in text
    # The addressee's Comune once, as the address already names it.
    assert text.count("Sesto Fiorentino") == text.count(ADDRESS) + 1  # + the office address
    assert ADDRESS in text
