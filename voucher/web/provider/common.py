"""What the providers' pages share: the signed-in provider and the voucher card."""

from dataclasses import dataclass

from ...errors import DomainError
from ...models import Provider, Service, Voucher
from ...services import clock, provider_access, providers, redemption
from ...services.vouchers import effective_status
from ..security import current_actor


def current_provider() -> Provider:
    """The provider the signed-in operator works for."""
    return providers.get_provider(current_actor().provider_id)


@dataclass(frozen=True)
class VoucherCard:
    """What a provider at the door may know of a voucher: no personal data but initials, and
    nothing at all when the voucher cannot be used (the refusal comes first and alone)."""

    voucher: Voucher
    status: str
    refusal: str | None  # why it cannot be used today, in Italian
    accredited: list[Service]  # the scheme's services the provider may record today
    others: list[Service]  # the scheme's other services
    choices: list[Service]  # what the form offers: services open on some service date

    @property
    def scheme(self):
        return self.voucher.scheme

    @property
    def initials(self) -> str:
        return self.voucher.beneficiary.initials

    @property
    def not_accredited(self) -> bool:
        """The provider may record nothing on it: it learns nothing of the voucher."""
        return not self.choices

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
    accredited = [
        s for s in services if providers.is_accredited(provider, s.code, today, voucher.scheme)
    ]
    return VoucherCard(
        voucher=voucher,
        status=effective_status(voucher, today),
        refusal=refusal,
        accredited=accredited,
        others=[s for s in services if s not in accredited],
        choices=provider_access.services_open_to(provider, voucher, today),
    )
