"""A small world for the reports pages' tests: last year's FSC schemes (areas A and C, one
with ISEE bands) and a Fondo Povertà scheme, two beneficiaries in two Comuni, a provider with
redemptions in March (one of them reversed), another provider, and one user of each role."""

from dataclasses import dataclass
from datetime import date

from tests import factories as f
from tests.reports.world import Ledger, issue, make_provider, make_scheme
from voucher.services import clock

YEAR = clock.today().year - 1
MONTH = f"{YEAR}-03"


@dataclass
class ReportsWorld:
    client: object
    provider: object
    other: object  # another provider, with no entries
    users: dict  # role -> user; "provider" is an operator of `provider`
    other_operator: object  # an operator of `other`
    ledger: Ledger

    def login(self, role: str | None):
        """Sign in as `role` (None: stay anonymous)."""
        if role is not None:
            f.login(self.client, self.users[role])
        return self.client

    def statement_url(self, provider=None, month: str = MONTH, suffix: str = "") -> str:
        provider = provider or self.provider
        return f"/rendiconti/fornitori/{provider.id}{suffix}?month={month}"


def build(client) -> ReportsWorld:
    f.make_ente()
    provider = make_provider(YEAR)
    other = make_provider(YEAR)
    hours = make_scheme(
        YEAR, "A", copay_bands=[{"isee_max_cents": 9_000_000, "coverage_percent": 70}]
    )
    disability = make_scheme(YEAR, "C", unit_price_cents=2333)
    poverty = make_scheme(YEAR, "P", fund="FONDO_POVERTA")
    ledger = Ledger()
    for comune in (f.FIRENZE, f.FIESOLE):
        person = f.make_beneficiary(comune=comune, categories=["elderly_dependent", "disabled"])
        for scheme, service in ((hours, "A1"), (disability, "C1"), (poverty, "P3")):
            voucher = issue(scheme, person)
            ledger.redeem(provider, voucher, service, date(YEAR, 3, 11), quantity="1.25")
            entry = ledger.redeem(provider, voucher, service, date(YEAR, 3, 12), quantity="3")
        ledger.reverse(entry)
    users = {
        role: f.make_user(role, provider=provider if role == "provider" else None)
        for role in ("admin", "auditor", "social_worker", "provider")
    }
    return ReportsWorld(
        client=client,
        provider=provider,
        other=other,
        users=users,
        other_operator=f.make_user("provider", provider=other),
        ledger=ledger,
    )
