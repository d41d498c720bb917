"""What a provider at the door may know of a voucher: nothing at all, beyond "this voucher
cannot be used by you", unless it may record a service on it.

A provider may record a service of the voucher's scheme when voucher.services.providers
says it is accredited for that service on some service date open to it (a day of the
voucher's validity up to today), and the scheme is open to it (a scheme limited to chosen
providers). That one function decides accreditation, so pages and the API agree with the
redemption itself.
"""

from datetime import date

from ..errors import NotAccredited
from ..models import Provider, Service, Voucher
from . import providers
from .wording import N_

NOT_FOR_YOU = N_(
    "Questo buono non può essere usato dal vostro ente: non siete accreditati per i servizi "
    "che paga, oppure il vostro accreditamento è sospeso. Per chiarimenti contattate l'ente."
)


def _first_open_day(accreditation, voucher: Voucher, day: date) -> date | None:
    """The first service date, up to `day`, that both the accreditation and the voucher's
    validity could cover (the day itself for a voucher not yet valid), or None."""
    first = max(accreditation.valid_from, min(voucher.valid_from, day))
    return first if first <= day else None


def services_open_to(provider: Provider, voucher: Voucher, day: date) -> list[Service]:
    """The scheme's services the provider may record on this voucher for some service date
    up to `day`; in the scheme's order."""
    open_services = []
    for service in voucher.scheme.services:
        days = {
            first
            for a in provider.accreditations
            if a.service_code == service.code
            and (first := _first_open_day(a, voucher, day)) is not None
        }
        if any(
            providers.is_accredited(provider, service.code, d, voucher.scheme) for d in sorted(days)
        ):
            open_services.append(service)
    return open_services


def check_may_read(provider: Provider, voucher: Voucher, day: date) -> None:
    """Refuse (403 not_accredited) a provider that may record nothing on the voucher: it
    learns nothing of it, not its balance nor its beneficiary's initials."""
    if not services_open_to(provider, voucher, day):
        raise NotAccredited(NOT_FOR_YOU)
