"""A voucher that cannot be used: the refusal first, right under the heading, as an alert,
and nothing else of the voucher; a provider not accredited for it learns nothing but that.
Also where focus lands on each step of the record form, and its error summary."""

import re
from datetime import timedelta

import pytest

from tests import factories as f
from tests.api.voucher_world import bearer
from tests.web.provider_world import FIRST_NAME, LAST_NAME, make_provider_world
from voucher.extensions import db
from voucher.services import SYSTEM, clock, providers, vouchers
from voucher.services.ente import get_ente


@pytest.fixture
def world(client):
    return make_provider_world(client)


def _expire(world):
    world.voucher.valid_from = clock.today() - timedelta(days=30)
    world.voucher.valid_until = clock.today() - timedelta(days=1)


def _not_yet(world):
    world.voucher.valid_from = clock.today() + timedelta(days=1)
    world.voucher.valid_until = clock.today() + timedelta(days=30)


def _exhaust(world):
    world.voucher.balance_cents, world.voucher.status = 0, "exhausted"


def _not_accredited(world):
    # The provider's accreditations end: it serves none of the scheme's services any more.
    for accreditation in world.provider.accreditations:
        accreditation.valid_from = clock.today() + timedelta(days=10)


REASONS = {
    "revoked": (lambda w: vouchers.revoke_voucher(SYSTEM, w.voucher, "smarrito"), "revocato"),
    "suspended": (lambda w: vouchers.suspend_voucher(SYSTEM, w.voucher, "verifica"), "sospeso"),
    "expired": (_expire, "scaduto il"),
    "not_yet_valid": (_not_yet, "valido dal"),
    "exhausted": (_exhaust, "non ha più credito"),
    "not_accredited": (_not_accredited, "non può essere usato dal vostro ente"),
    "provider_suspended": (
        lambda w: providers.suspend_provider(SYSTEM, w.provider, "verifica"),
        "non può essere usato dal vostro ente",
    ),
    # The scheme is limited to chosen providers, and this one is not among them.
    "scheme_limited": (
        lambda w: w.hours.providers.append(w.other),
        "non può essere usato dal vostro ente",
    ),
}
# What a usable card shows of the voucher, none of which a refusal may show.
CARD_ONLY = ('id="card-balance"', "Saldo disponibile", 'id="card-initials"', "M.Q.", "Misura")


def main_of(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


@pytest.mark.parametrize("reason", REASONS)
def test_the_refusal_comes_first_and_alone(world, reason):
    change, words = REASONS[reason]
    change(world)
    db.session.commit()
    main = main_of(world.card(world.voucher.code))
    after_heading = main[main.index("</h1>") + len("</h1>") :].lstrip()
    # The first thing under the heading is the alert with the refusal.
    assert after_heading.startswith('<div class="alert alert-danger app-refusal" role="alert"')
    assert words in after_heading[: after_heading.index("</div>")]
    for shown in CARD_ONLY:
        assert shown not in main, shown
    assert world.hours.name not in main
    assert 'id="record-form"' not in main
    for secret in (FIRST_NAME, LAST_NAME, world.person.fiscal_code):
        assert secret not in main
    # The heading takes focus on arrival, where the refusal is read next.
    assert re.search(r'<h1 id="page-title" tabindex="-1" data-focus-on-load>', main)


@pytest.mark.parametrize("reason", ["not_accredited", "provider_suspended", "scheme_limited"])
def test_a_provider_not_accredited_learns_nothing_of_the_voucher(world, reason):
    REASONS[reason][0](world)
    vouchers.revoke_voucher(SYSTEM, world.voucher, "smarrito")  # not even its state
    db.session.commit()
    html = world.card(world.voucher.qr_payload)
    main = main_of(html)
    assert "Questo buono non può essere usato dal vostro ente." in main
    assert "Non potete registrare prestazioni su questo buono" in main
    for leak in (world.voucher.code, "revocato", "Revocato", "25 ore", "500,00"):
        assert leak not in html, leak


def test_the_refusal_says_whom_to_call(world):
    ente = get_ente()
    ente.office_phone, ente.office_email = "055 123456", "sociale@comune.example.it"
    vouchers.revoke_voucher(SYSTEM, world.voucher, "smarrito")
    db.session.commit()
    main = main_of(world.card(world.voucher.code))
    assert 'href="tel:055123456">055 123456</a>' in main
    assert "sociale@comune.example.it" in main


def test_the_api_refuses_a_provider_not_accredited(world, client):
    """The same rule on GET /api/v1/vouchers/{code}: 403 not_accredited, nothing else."""
    operator = f.make_user("provider", provider=world.other)
    for accreditation in world.other.accreditations:
        accreditation.valid_from = clock.today() + timedelta(days=10)
    db.session.commit()
    response = client.get(f"/api/v1/vouchers/{world.voucher.code}", headers=bearer(operator))
    assert response.status_code == 403
    problem = response.get_json()
    assert problem["code"] == "not_accredited"
    text = response.get_data(as_text=True)
    for leak in ("balance", "initials", world.hours.name, "M.Q."):
        assert leak not in text


# --- focus and errors -------------------------------------------------------------------


def test_focus_starts_on_the_field_to_fill_in(world):
    html = world.card(world.voucher.code)
    # One service (chosen for the operator) and today's date: the quantity is what to type.
    assert re.search(r'<input[^>]*autofocus[^>]*id="quantity"', html)
    assert html.count("autofocus") == 1
    assert 'id="error-summary"' not in html


def test_an_error_moves_focus_to_its_field_and_is_summarised(world):
    data = world.form(quantity="1,555", service_date="")
    response = world.client.post("/fornitore/anteprima", data=data)
    html = response.get_data(as_text=True)
    summary = html[html.index('id="error-summary"') :]
    summary = summary[: summary.index("</section>")]
    # Each error is a link to its field, in the form's order.
    links = re.findall(r'<a href="#(\w+)">', summary)
    assert links == ["service_date", "quantity"]
    assert "Indicare la data della prestazione." in summary
    # Focus goes to the first field in error, whose message is tied to it.
    assert html.count("autofocus") == 1
    field = re.search(r'<input[^>]*id="service_date"[^>]*>', html).group(0)
    assert "autofocus" in field and 'aria-invalid="true"' in field
    assert 'aria-describedby="service_date-error"' in field
    assert 'id="service_date-error"' in html


def test_the_preview_focuses_confirm_and_the_receipt_its_heading(world):
    data = world.form(quantity="1")
    preview = world.client.post("/fornitore/anteprima", data=data).get_data(as_text=True)
    button = re.search(r'<button[^>]*id="confirm-button"[^>]*>', preview).group(0)
    assert "autofocus" in button and 'aria-describedby="confirm-summary"' in button
    assert preview.count("autofocus") == 1
    summary = re.search(r'<p id="confirm-summary"[^>]*>([^<]*)</p>', preview).group(1)
    assert "pagato dal buono 20,00 €" in summary
    location = world.client.post("/fornitore/conferma", data=data).headers["Location"]
    receipt = world.client.get(location).get_data(as_text=True)
    assert 'id="receipt-title" tabindex="-1" data-focus-on-load' in receipt


def test_a_wrong_code_on_the_scan_page_is_summarised(world):
    html = world.client.post("/fornitore/", data={"voucher": "AAAA"}).get_data(as_text=True)
    assert '<a href="#voucher">' in html
    field = re.search(r'<input[^>]*id="voucher"[^>]*>', html).group(0)
    assert "autofocus" in field and 'aria-invalid="true"' in field
