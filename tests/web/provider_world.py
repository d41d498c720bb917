"""A small world for the providers' page tests: an ente, a scheme paid by the hour (A1, A2;
at most 200 € a service) and one in euro (A3, A4; 75% coverage for the beneficiary's ISEE),
a provider accredited for A1 and A3 with a signed-in operator, another provider, and a
beneficiary with a voucher of each scheme."""

import re
from dataclasses import dataclass
from datetime import timedelta

from tests import factories as f
from voucher.extensions import db
from voucher.models import LedgerEntry
from voucher.services import SYSTEM, clock, issuance, ledger, redemption

FIRST_NAME, LAST_NAME = "Mariella", "Quaglierini"
_KEY = re.compile(r'name="key" type="hidden" value="([^"]+)"')


@dataclass
class ProviderWorld:
    client: object
    hours: object  # scheme by the hour
    euros: object  # scheme in euro
    provider: object
    other: object  # another provider
    operator: object
    person: object
    voucher: object  # of `hours`, 500,00 € = 25 hours
    eur_voucher: object  # of `euros`, 300,00 €, 75% coverage

    def issue(self, scheme=None, **person):
        """A new voucher for a new beneficiary."""
        voucher, _pin = issuance.issue_voucher(
            SYSTEM, scheme or self.hours, f.make_beneficiary(**person)
        )
        db.session.commit()
        return voucher

    def card(self, reference: str) -> str:
        response = self.client.post("/fornitore/", data={"voucher": reference})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def form(self, voucher=None, **values) -> dict:
        """The record form as the card page fills it, with `values` typed in."""
        voucher = voucher or self.voucher
        html = self.card(voucher.code)
        data = {
            "voucher": voucher.code,
            "key": _KEY.search(html).group(1),
            "service_code": "A1" if voucher.scheme.unit != "EUR" else "A3",
            "service_date": clock.today().isoformat(),
        }
        data.update(values)
        return data

    def redeem_direct(self, voucher, service="A1", provider=None, **amount) -> LedgerEntry:
        """A redemption recorded through the service, as the API would."""
        entry, _replayed = redemption.redeem(
            SYSTEM,
            (provider or self.provider).id,
            redemption.RedemptionRequest(voucher.code, service, clock.today(), **amount),
            f"direct-{voucher.id}-{len(ledger.ledger_for_voucher(voucher))}",
        )
        db.session.commit()
        return entry


def make_provider_world(client) -> ProviderWorld:
    f.make_ente()
    hours = f.make_scheme(service_codes=["A1", "A2"], max_redemption_cents=20_000)
    euros = f.make_scheme(
        service_codes=["A3", "A4"],
        unit="EUR",
        unit_price_cents=None,
        face_value_cents=30_000,
        copay_bands=[{"isee_max_cents": 2_000_000, "coverage_percent": 75}],
    )
    since = clock.today() - timedelta(days=400)
    provider = f.make_provider(services=("A1", "A3"), valid_from=since)
    other = f.make_provider(services=("A1", "A3"), valid_from=since)
    person = f.make_beneficiary(first_name=FIRST_NAME, last_name=LAST_NAME, isee_cents=1_000_000)
    voucher, _pin = issuance.issue_voucher(SYSTEM, hours, person)
    eur_voucher, _pin = issuance.issue_voucher(SYSTEM, euros, person)
    db.session.commit()
    operator = f.make_user("provider", provider=provider)
    f.login(client, operator)
    return ProviderWorld(
        client, hours, euros, provider, other, operator, person, voucher, eur_voucher
    )


def ledger_count(voucher) -> int:
    return len(ledger.ledger_for_voucher(voucher))
