"""A small world for the service tests: an ente, a scheme paid by the hour for this calendar
year, an accredited provider, a beneficiary and a voucher. Every date is explicit (a day in
June of this year), so the tests never depend on when they run."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from tests import factories as f
from voucher.extensions import db
from voucher.models import AuditEvent, LedgerEntry
from voucher.services import SYSTEM, Actor, clock, issuance, redemption
from voucher.services.redemption import RedemptionRequest

YEAR = clock.today().year
START, END = date(YEAR, 1, 1), date(YEAR, 12, 31)
DAY = date(YEAR, 6, 15)


def provider_actor(provider) -> Actor:
    return Actor(type="api_key", id=None, label=f"provider {provider.id}", provider_id=provider.id)


@dataclass
class World:
    scheme: object
    provider: object
    person: object
    voucher: object = None
    pin: str | None = None

    def issue(self, person=None, scheme=None, day=DAY):
        """A voucher issued through the service and committed; returns (voucher, pin)."""
        voucher, pin = issuance.issue_voucher(
            SYSTEM, scheme or self.scheme, person or self.person, day=day
        )
        db.session.commit()
        return voucher, pin

    def redeem(
        self,
        amount_cents=None,
        quantity=None,
        *,
        key=None,
        provider=None,
        service="A1",
        service_date=DAY,
        day=DAY,
        voucher=None,
        ref=None,
        commit=True,
    ):
        """Redeem through the service and commit (unless told not to); returns (entry,
        replayed)."""
        provider = provider or self.provider
        req = RedemptionRequest(
            voucher=ref or (voucher or self.voucher).code,
            service_code=service,
            service_date=service_date,
            amount_cents=amount_cents,
            quantity=None if quantity is None else Decimal(quantity),
        )
        entry, replayed = redemption.redeem(
            provider_actor(provider), provider.id, req, key or f"k-{next(_keys)}", day=day
        )
        if commit:
            db.session.commit()
        return entry, replayed


_keys = iter(range(1, 10**9))


def make_world(issue=True, person_kw=None, **scheme_overrides) -> World:
    f.make_ente()
    scheme = f.make_scheme(**scheme_overrides)
    provider = f.make_provider(services=("A1", "A2"), valid_from=START)
    person = f.make_beneficiary(**(person_kw or {}))
    world = World(scheme=scheme, provider=provider, person=person)
    if issue:
        world.voucher, world.pin = world.issue()
    return world


def ledger_count(voucher=None) -> int:
    query = select(func.count()).select_from(LedgerEntry)
    if voucher is not None:
        query = query.where(LedgerEntry.voucher_id == voucher.id)
    return db.session.execute(query).scalar_one()


def audit_actions(object_id=None) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.seq)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == str(object_id))
    return list(db.session.execute(query).scalars())
