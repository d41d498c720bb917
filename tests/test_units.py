"""The units a voucher's money buys: balance / (unit price × coverage / 100), rounded down to
two decimals, the same figure on the API, on every page that shows units and on the letter.
A 390,00 € voucher at 19,50 € an hour and 70 % coverage is worth 28,57 hours, not 20."""

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from tests import factories as f
from tests.api.voucher_world import bearer
from tests.documents.support import pdf_text
from voucher.extensions import db
from voucher.services import SYSTEM, clock, issuance
from voucher.services.letters import value_text
from voucher.services.money import units_bought

HOURS = "28,57 ore (390,00 €)"
# Two hours cost 39,00 €, of which the voucher pays 70 %: 27,30 €.
HOURS_AFTER_TWO = "26,57 ore (362,70 €)"
_KEY = re.compile(r'name="key" type="hidden" value="([^"]+)"')


@pytest.mark.parametrize(
    ("cents", "price", "coverage", "units"),
    [
        (39_000, 1950, 70, Decimal("28.57")),  # 28,571… cut, not rounded
        (36_270, 1950, 70, Decimal("26.57")),
        (50_000, 1999, 70, Decimal("35.73")),  # 35,7321…
        (1_999, 2000, 100, Decimal("0.99")),  # 0,9995 cut down, never up to 1
        (39_000, 1950, 100, Decimal("20.00")),
        (0, 1950, 70, Decimal("0.00")),
        (39_000, None, 70, None),  # a scheme in euro has no unit price
        (39_000, 1950, 0, None),  # nothing covered: no units bought
    ],
)
def test_units_bought(cents, price, coverage, units):
    assert units_bought(cents, price, coverage) == units


def test_value_text_at_a_coverage():
    assert value_text(39_000, "HOUR", 1950, 70) == HOURS
    assert value_text(39_000, "HOUR", 1950) == "20 ore (390,00 €)"  # in full by default
    assert value_text(39_000, "EUR", None, 70) == "390,00 €"


@dataclass
class UnitsWorld:
    client: object
    scheme: object
    provider: object
    person: object
    voucher: object
    pin: str

    def sign_in(self, role: str):
        user = f.make_user(role, provider=self.provider if role == "provider" else None)
        f.login(self.client, user)
        return self.client

    def api_headers(self, role: str) -> dict:
        return bearer(f.make_user(role, provider=self.provider if role == "provider" else None))


@pytest.fixture
def world(client, app) -> UnitsWorld:
    f.make_ente()
    scheme = f.make_scheme(
        unit_price_cents=1950,
        face_value_cents=39_000,
        copay_bands=[{"isee_max_cents": 5_000_000, "coverage_percent": 70}],
    )
    provider = f.make_provider(services=("A1", "A2"), valid_from=clock.today() - timedelta(400))
    person = f.make_beneficiary(isee_cents=1_000_000)
    voucher, pin = issuance.issue_voucher(SYSTEM, scheme, person)
    db.session.commit()
    assert voucher.coverage_percent == 70
    return UnitsWorld(client, scheme, provider, person, voucher, pin)


@pytest.mark.parametrize("role", ["social_worker", "provider"])
def test_the_api_gives_value_and_balance_in_units(world, role):
    response = world.client.get(
        f"/api/v1/vouchers/{world.voucher.code}", headers=world.api_headers(role)
    )
    body = response.get_json()
    assert response.status_code == 200 and body["value_cents"] == body["balance_cents"] == 39_000
    assert body["value_units"] == body["balance_units"] == 28.57


def social_voucher_page(world) -> str:
    return world.sign_in("social_worker").get(f"/servizi/buoni/{world.voucher.id}").text


def social_issue_page(world) -> str:
    # The face value at the coverage the person would get.
    url = f"/servizi/beneficiari/{world.person.id}/emetti?misura={world.scheme.id}"
    return world.sign_in("social_worker").get(url).text


def provider_card(world) -> str:
    return world.sign_in("provider").post("/fornitore/", data={"voucher": world.voucher.code}).text


def provider_preview_and_receipt(world) -> str:
    client = world.sign_in("provider")
    card = client.post("/fornitore/", data={"voucher": world.voucher.code}).text
    data = {
        "voucher": world.voucher.code,
        "key": _KEY.search(card).group(1),
        "service_code": "A1",
        "service_date": clock.today().isoformat(),
        "quantity": "2",
    }
    preview = client.post("/fornitore/anteprima", data=data).text
    receipt = client.post("/fornitore/conferma", data=data, follow_redirects=True).text
    return preview + receipt


def beneficiary_page(world) -> str:
    signed_in = world.client.post("/saldo", data={"code": world.voucher.code, "pin": world.pin})
    assert signed_in.status_code == 303
    return world.client.get("/saldo/buono").text


def letter(world) -> str:
    headers = world.api_headers("social_worker")
    response = world.client.get(f"/api/v1/vouchers/{world.voucher.code}/pdf", headers=headers)
    assert response.mimetype == "application/pdf"
    return " ".join(pdf_text(response.data).split())


@pytest.mark.parametrize(
    ("read", "text", "times"),
    [
        (social_voucher_page, f"{HOURS}</dd>", 2),  # value and balance
        (social_issue_page, HOURS, 1),
        (provider_card, HOURS, 2),  # balance and initial value
        (provider_preview_and_receipt, HOURS_AFTER_TWO, 2),  # the balance after, on each page
        (beneficiary_page, "pari a 28,57 ore di servizio", 1),
        (letter, f"Valore: {HOURS}", 1),
    ],
    ids=[
        "social_voucher",
        "social_issue",
        "provider_card",
        "provider_preview_receipt",
        "beneficiary",
        "letter",
    ],
)
def test_pages_and_letter_show_the_units_the_money_buys(world, read, text, times):
    page = read(world)
    assert page.count(text) == times, page
    assert "20 ore" not in page
