"""A small world for the social workers' page tests: an ente, a scheme paid by the hour, an
accredited provider, a beneficiary with a voucher and one redemption, and a draft batch."""

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from tests import factories as f
from voucher.extensions import db
from voucher.services import SYSTEM, batches, clock, issuance, redemption

# A codice fiscale, omocodia letters included, anywhere in a string.
FISCAL_CODE = re.compile(
    r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]", re.I
)
_URL_ATTR = re.compile(r'(?:href|action|src|formaction|content)="([^"]*)"')


@dataclass
class SocialWorld:
    scheme: object
    provider: object
    person: object
    voucher: object
    pin: str
    entry: object
    batch: object


def make_social_world(**scheme_overrides) -> SocialWorld:
    f.make_ente()
    scheme = f.make_scheme(**{"face_value_cents": 50_000, **scheme_overrides})
    provider = f.make_provider(services=("A1", "A2"), valid_from=clock.today() - timedelta(400))
    person = f.make_beneficiary(address="Via Roma 1")
    voucher, pin = issuance.issue_voucher(SYSTEM, scheme, person)
    db.session.commit()
    entry, _replay = redemption.redeem(
        SYSTEM,
        provider.id,
        redemption.RedemptionRequest(voucher.code, "A1", clock.today(), quantity=Decimal("2")),
        "world-1",
    )
    db.session.commit()
    other = f.make_beneficiary()
    batch = batches.create_batch(
        SYSTEM, scheme, f"codice_fiscale\r\n{other.fiscal_code}\r\n".encode()
    )
    db.session.commit()
    return SocialWorld(scheme, provider, person, voucher, pin, entry, batch)


def urls_in(html: str) -> list[str]:
    """Every URL a page links to, posts to or loads."""
    return _URL_ATTR.findall(html)


def assert_no_fiscal_code_in_urls(html: str, *extra_urls: str) -> None:
    for url in [*urls_in(html), *extra_urls]:
        assert not FISCAL_CODE.search(url), url


def pin_on_page(html: str) -> str:
    return re.search(r'id="pin">(\d{6})<', html).group(1)


def form_token(html: str) -> str:
    return re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
