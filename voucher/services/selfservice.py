"""What a beneficiary may read of their own voucher with its code and PIN: balance, status,
history and the providers where it can be spent. Shared by the self-service pages and by
POST /api/v1/balance, so both answer the same."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..errors import InvalidSignature, VoucherNotFound
from ..extensions import db
from ..models import LedgerEntry, Service, Voucher
from . import clock, ledger, providers, redemption, units, vouchers


@dataclass(frozen=True)
class ProviderContact:
    """An accredited provider as a family needs it: who, for what, and how to reach them."""

    name: str
    services: list[Service]
    email: str | None
    phone: str | None
    address: str | None


@dataclass(frozen=True)
class VoucherSummary:
    """The voucher as its holder sees it."""

    voucher: Voucher
    status: str  # past its last day a voucher reads "expired" even before the nightly job
    balance_units: Decimal | None
    redemptions: list[LedgerEntry]
    providers: list[ProviderContact]

    @property
    def scheme(self):
        """The voucher's scheme."""
        return self.voucher.scheme

    @property
    def not_yet_valid(self) -> bool:
        """Whether the voucher's validity starts after today."""
        return self.voucher.valid_from > clock.today()


def sign_in(code_text: str, pin: str) -> Voucher:
    """The voucher for a code (or the text of its QR code) and a PIN, through
    vouchers.check_pin: the same InvalidCodeOrPin for a wrong code, a wrong PIN or a QR
    text that does not verify. The caller commits even on failure (the failure count)."""
    try:
        code = redemption.resolve_voucher_code(code_text or "")
    except (InvalidSignature, VoucherNotFound):
        code = ""  # check_pin answers for it exactly as for any unknown code
    return vouchers.check_pin(code, pin)


def voucher_by_id(voucher_id: int) -> Voucher | None:
    """The voucher a beneficiary session names, or None if it no longer exists."""
    return db.session.get(Voucher, voucher_id)


def accredited_providers(voucher: Voucher, day: date | None = None) -> list[ProviderContact]:
    """The active providers accredited on `day` (today) for the voucher's services, each
    with the services it may deliver and its contacts."""
    day = day or clock.today()
    wanted = {s.code: s for s in voucher.scheme.services}
    contacts = []
    for provider in providers.providers_for_services(list(wanted), day):
        codes = sorted({a.service_code for a in provider.accreditations if a.covers(day)})
        contacts.append(
            ProviderContact(
                name=provider.name,
                services=[wanted[c] for c in codes if c in wanted],
                email=provider.email,
                phone=provider.phone,
                address=provider.address,
            )
        )
    return contacts


def voucher_summary(voucher: Voucher, day: date | None = None) -> VoucherSummary:
    """Everything the holder reads: status, units left, history (reversals included, in
    order) and where to spend it."""
    day = day or clock.today()
    return VoucherSummary(
        voucher=voucher,
        status=vouchers.effective_status(voucher, day),
        balance_units=units.voucher_units(voucher, day=day),
        redemptions=ledger.ledger_for_voucher(voucher),
        providers=accredited_providers(voucher, day),
    )
