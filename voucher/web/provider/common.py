"""What the providers' pages share: the signed-in provider, the voucher card, and the texts
of units and statuses."""

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from ...errors import DomainError
from ...models import Provider, Service, Voucher
from ...services import clock, providers, redemption
from ...services.letters import UNIT_NAMES, value_text
from ...services.vouchers import effective_status
from ..security import current_actor

STATUS_LABELS = {
    "active": (_l("Attivo"), "success"),
    "exhausted": (_l("Esaurito"), "secondary"),
    "expired": (_l("Scaduto"), "secondary"),
    "revoked": (_l("Revocato"), "danger"),
    "suspended": (_l("Sospeso"), "warning"),
}

KIND_LABELS = {"redemption": _l("Prestazione"), "reversal": _l("Storno")}


def current_provider() -> Provider:
    """The provider the signed-in operator works for."""
    return providers.get_provider(current_actor().provider_id)


def quantity_text(quantity: Decimal | None, unit: str) -> str:
    """A quantity with its unit: "2,5 ore", "1 pasto"; a dash when there is none."""
    if quantity is None:
        return "—"
    number = f"{Decimal(quantity).normalize():f}".replace(".", ",")
    if unit not in UNIT_NAMES:
        return number
    one, many = UNIT_NAMES[unit]
    return f"{number} {one if abs(quantity) == 1 else many}"


def units_text(cents: int, scheme) -> str:
    """Euro, and units for unit schemes: "12,5 ore (250,00 €)"."""
    return value_text(cents, scheme.unit, scheme.unit_price_cents)


@dataclass(frozen=True)
class VoucherCard:
    """What a provider at the door may know of a voucher: no personal data but initials."""

    voucher: Voucher
    status: str
    refusal: str | None  # why it cannot be used today, in Italian
    accredited: list[Service]  # the scheme's services the provider may record today
    others: list[Service]  # the scheme's other services
    choices: list[Service]  # what the form offers: services with any accreditation

    @property
    def scheme(self):
        return self.voucher.scheme

    @property
    def initials(self) -> str:
        return self.voucher.beneficiary.initials

    @property
    def usable(self) -> bool:
        return self.refusal is None and bool(self.choices)


def voucher_card(voucher: Voucher, provider: Provider) -> VoucherCard:
    today = clock.today()
    try:
        redemption.check_voucher_usable(voucher, today)
        refusal = None
    except DomainError as error:
        refusal = error.detail
    services = voucher.scheme.services
    accredited = [s for s in services if providers.is_accredited(provider, s.code, today)]
    ever = {a.service_code for a in provider.accreditations} if provider.status == "active" else ()
    return VoucherCard(
        voucher=voucher,
        status=effective_status(voucher, today),
        refusal=refusal,
        accredited=accredited,
        others=[s for s in services if s not in accredited],
        choices=[s for s in services if s.code in ever],
    )
