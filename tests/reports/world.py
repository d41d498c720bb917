"""Building blocks for the report tests: schemes of a given year, providers accredited for it,
vouchers and ledger entries made through the services (backdated where needed), and a record
of every entry so that the tests can recompute each report independently."""

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tests import factories as f
from voucher.extensions import db
from voucher.services import SYSTEM, issuance, redemption
from voucher.services.redemption import RedemptionRequest

_keys = itertools.count(1)

SERVICES_BY_AREA = {"A": ("A1", "A2"), "B": ("B1", "B3"), "C": ("C1", "C3"), "P": ("P2", "P3")}


def make_scheme(year: int, area: str = "A", fund: str = "FSC_OS", **overrides):
    """An active scheme of `year`, valid the whole year, paid by the hour."""
    data = dict(
        fund_code=fund,
        year=year,
        service_codes=list(SERVICES_BY_AREA[area]),
        unit="HOUR",
        unit_price_cents=2000,
        face_value_cents=50_000,
        valid_from=date(year, 1, 1),
        valid_until=date(year, 12, 31),
        budget_cents=100_000_000,
    )
    data.update(overrides)
    return f.make_scheme(**data)


def make_provider(year: int, services=("A1", "A2", "B1", "B3", "C1", "C3", "P2", "P3")):
    return f.make_provider(services=services, valid_from=date(year, 1, 1))


@dataclass
class Entry:
    """What the test knows of one ledger entry."""

    id: int
    kind: str
    voucher_id: int
    provider_id: int
    service_code: str
    service_date: date
    quantity: Decimal | None
    amount_cents: int
    public_cents: int
    copay_cents: int


@dataclass
class Ledger:
    """Every entry the test wrote, in order."""

    entries: list[Entry] = field(default_factory=list)

    def redeem(
        self, provider, voucher, service_code, day, *, amount=None, quantity=None, hours=None
    ):
        """A redemption dated `day`, recorded as if on the last day of the voucher's validity;
        `hours` beside the amount on a euro scheme."""
        req = RedemptionRequest(
            voucher=voucher.code,
            service_code=service_code,
            service_date=day,
            amount_cents=amount,
            quantity=None if quantity is None else Decimal(quantity),
            hours=None if hours is None else Decimal(hours),
        )
        entry, _ = redemption.redeem(
            SYSTEM, provider.id, req, f"k-{next(_keys)}", day=max(day, voucher.valid_until)
        )
        db.session.commit()
        return self._keep(entry)

    def reverse(self, entry: Entry):
        reversal = redemption.reverse_redemption(SYSTEM, entry.id, "Prestazione non resa")
        db.session.commit()
        return self._keep(reversal)

    def _keep(self, entry) -> Entry:
        kept = Entry(
            id=entry.id,
            kind=entry.kind,
            voucher_id=entry.voucher_id,
            provider_id=entry.provider_id,
            service_code=entry.service_code,
            service_date=entry.service_date,
            quantity=entry.quantity,
            amount_cents=entry.amount_cents,
            public_cents=entry.public_cents,
            copay_cents=entry.copay_cents,
        )
        self.entries.append(kept)
        return kept


def issue(scheme, person, day=None):
    """A voucher of `scheme`, issued on its first day unless told otherwise."""
    voucher, _pin = issuance.issue_voucher(SYSTEM, scheme, person, day=day or scheme.valid_from)
    db.session.commit()
    return voucher


def headers_for(client, role: str, provider=None) -> dict:
    return f.api_token(client, f.make_user(role, provider=provider))


def parse(document: bytes):
    """The application's own XML output, parsed."""
    return ET.fromstring(document)  # noqa: S314 - trusted: produced by the code under test


IBAN = "IT60X0542811101000000123456"


def make_payable(provider, durc_valid_until: date | None = None):
    """Record what a payment needs: IBAN, a DURC valid for a year, the dedicated account."""
    from datetime import timedelta

    from voucher.services import clock, payments

    payments.update_payment_data(
        SYSTEM,
        provider,
        fiscal_code=provider.vat_number,
        iban=IBAN,
        durc_valid_until=durc_valid_until or clock.today() + timedelta(days=365),
        dedicated_account_declared=True,
    )
    db.session.commit()
    return provider


def send_invoice(client, headers, provider, month: str, total_cents: int, **kwargs):
    """Upload a FatturaPA invoice of `total_cents` (exempt) for the provider's month."""
    from tests.fatturapa import invoice_xml

    kwargs.setdefault("number", f"{month}/{next(_keys)}")
    document = invoice_xml(provider.vat_number, total_cents=total_cents, **kwargs)
    return client.post(
        f"/api/v1/reports/providers/{provider.id}/statement/invoices?month={month}",
        data=document,
        headers={**headers, "Content-Type": "application/xml"},
    )
