"""A world for reading the pages in English: the reports world (last year's schemes, providers
with statements, one user of each role) and, this year, a scheme with eligibility rules, a
voucher with a service recorded, a person the rules turn down, and a draft batch whose rows
are refused for every reason the dry run gives."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from tests import factories as f
from tests.web import reports_world
from voucher.extensions import db
from voucher.models import (
    Beneficiary,
    Comune,
    Ente,
    Provider,
    Scheme,
    SiussPrestazione,
    User,
)
from voucher.services import SYSTEM, batches, clock, issuance, redemption
from voucher.services.beneficiary_import_files import TEMPLATE_HEADER


@dataclass
class EnglishWorld:
    reports: reports_world.ReportsWorld
    scheme: object  # this year's, by the hour, for the elderly from 65
    person: object  # eligible, with a voucher
    voucher: object
    pin: str
    entry: object  # a service recorded on the voucher
    refused: object  # a person the scheme's rules turn down
    batch: object  # a draft with refused rows

    @property
    def client(self):
        return self.reports.client

    @property
    def provider(self):
        return self.reports.provider

    def sign_in(self, role: str):
        """Sign out whoever is signed in, then sign in as `role` (the language stays)."""
        self.client.post("/esci")
        if role not in self.reports.users:
            self.reports.users[role] = f.make_user(role)
        return self.reports.login(role)


def build(client) -> EnglishWorld:
    reports = reports_world.build(client)
    scheme = f.make_scheme(
        min_age=65,
        max_age=110,
        eligible_categories=["elderly_self_sufficient"],
        max_active_per_beneficiary=1,
        isee_max_cents=4_000_000,
    )
    person = f.make_beneficiary(address="Via Roma 1")
    voucher, pin = issuance.issue_voucher(SYSTEM, scheme, person)
    db.session.commit()
    entry, _replay = redemption.redeem(
        SYSTEM,
        reports.provider.id,
        redemption.RedemptionRequest(voucher.code, "A1", clock.today(), quantity=Decimal("2")),
        "english-1",
    )
    db.session.commit()
    refused = f.make_beneficiary(age=30, categories=["minor"], isee_cents=5_000_000)
    unknown = f.fiscal_code_for(clock.today() - timedelta(days=365 * 50))
    rows = ["codice_fiscale", refused.fiscal_code, "NONVALIDO", unknown, refused.fiscal_code, ""]
    rows.append(person.fiscal_code)
    batch = batches.create_batch(SYSTEM, scheme, "\r\n".join([*rows, ""]).encode())
    db.session.commit()
    return EnglishWorld(reports, scheme, person, voucher, pin, entry, refused, batch)


def data_values() -> set[str]:
    """What the pages show as data, not as wording: the names of people, providers, schemes,
    Comuni, users and the ente, addresses, INPS's Italian names of the prestazioni, and the
    columns of the beneficiaries' import file (Italian names, as the file has them)."""
    columns = (
        Beneficiary.first_name,
        Beneficiary.last_name,
        Beneficiary.address,
        Provider.name,
        Provider.address,
        Scheme.name,
        Comune.name,
        Ente.name,
        User.username,
        SiussPrestazione.name_it,
    )
    values = set(TEMPLATE_HEADER)
    for column in columns:
        values.update(v for v in db.session.execute(select(column)).scalars() if v)
    return values
