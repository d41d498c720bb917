"""What a beneficiary may read of their own voucher with its code and PIN: balance, status,
history and the providers where it can be spent. Shared by the self-service pages and by
POST /api/v1/balance, so both answer the same."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app

from ..errors import InvalidSignature, Locked, VoucherNotFound
from ..extensions import db
from ..models import LedgerEntry, Service, Voucher
from . import clock, ledger, providers, redemption, units, vouchers
from .ente import get_ente
from .ente_office import OfficeContacts, office_contacts


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


def help_contacts() -> OfficeContacts:
    """The social-services office a family is told to call (empty parts when not set)."""
    return office_contacts(get_ente())


def locked_detail(office: OfficeContacts) -> str:
    """What a locked code's refusal says: how long, and whom to call for a new PIN, with the
    office's contacts when the ente gave them (never made up when it did not)."""
    minutes = current_app.config["PIN_LOCK_MINUTES"]
    wait = f"Troppi PIN errati: per sicurezza il codice è bloccato per {minutes} minuti."
    if office.lines():
        return f"{wait} Per un nuovo PIN chiama i servizi sociali: {office.sentence()}."
    return f"{wait} Per un nuovo PIN chiama i servizi sociali del tuo Comune."


def sign_in(code_text: str, pin: str) -> Voucher:
    """The voucher for a code (or the text of its QR code) and a PIN, through
    vouchers.check_pin: the same InvalidCodeOrPin for a wrong code, a wrong PIN or a QR
    text that does not verify; Locked (saying whom to call) for a locked code. The caller
    commits even on failure (the failure count)."""
    try:
        code = redemption.resolve_voucher_code(code_text or "")
    except (InvalidSignature, VoucherNotFound):
        code = ""  # check_pin answers for it exactly as for any unknown code
    try:
        return vouchers.check_pin(code, pin)
    except Locked:
        raise Locked(locked_detail(help_contacts())) from None


def voucher_by_id(voucher_id: int) -> Voucher | None:
    """The voucher a beneficiary session names, or None if it no longer exists."""
    return db.session.get(Voucher, voucher_id)


def accredited_providers(voucher: Voucher, day: date | None = None) -> list[ProviderContact]:
    """The active providers accredited on `day` (today) for the voucher's services, each
    with the services it may deliver and its contacts."""
    day = day or clock.today()
    wanted = {s.code: s for s in voucher.scheme.services}
    contacts = []
    for provider in providers.providers_for_scheme(voucher.scheme, day):
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
