"""The demo's activity: the beneficiaries, the vouchers they were issued and months of
services recorded against them."""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from codicefiscale import codicefiscale

from ..models import Provider, Voucher
from ..services import Actor, beneficiaries, eligibility, issuance, redemption, units, vouchers
from ..services.money import cost_of, public_share
from .data import BIRTHPLACES, COMUNI, FIRST_NAMES, FOREIGN, GROUPS, LAST_NAMES, PROVIDERS, SCHEMES


@dataclass
class Issued:
    """A voucher of the demo, with its PIN, scheme key, provider and what it was used for."""

    voucher: Voucher
    pin: str
    key: str
    provider: Provider
    issued_on: date
    entries: list = field(default_factory=list)


def _fiscal_code(rng, sex, first, last, age_range, today, birthplace, used) -> str:
    """A codice fiscale whose decoded birth date is the intended one (the two-digit year
    must not be read as a later century) and that no one else in the demo has."""
    while True:
        age = rng.randint(*age_range)
        birth = today - timedelta(days=365 * age + rng.randint(30, 330))
        code = codicefiscale.encode(
            lastname=last,
            firstname=first,
            gender=sex,
            birthdate=birth.strftime("%d/%m/%Y"),
            birthplace=birthplace,
        )
        if code not in used and codicefiscale.decode(code)["birthdate"].date() == birth:
            used.add(code)
            return code


def register_beneficiaries(actor: Actor, rng: random.Random, today: date) -> list[tuple]:
    """The people of each group, with the schemes they may be offered."""
    used: set[str] = set()
    comuni, weights = [c[0] for c in COMUNI], [c[3] for c in COMUNI]
    places, place_weights = [p[0] for p in BIRTHPLACES], [p[1] for p in BIRTHPLACES]
    foreign = list(FOREIGN)
    people = []
    for group, count, ages, category_choices, isee_range, offers in GROUPS:
        for _ in range(count):
            if group == "inclusion" and foreign and rng.random() < 0.5:
                sex, first, last, birthplace = foreign.pop(0)
            else:
                sex = rng.choice("FM")
                first, last = rng.choice(FIRST_NAMES[sex]), rng.choice(LAST_NAMES)
                birthplace = rng.choices(places, place_weights)[0]
            code = _fiscal_code(rng, sex, first, last, ages, today, birthplace, used)
            person = beneficiaries.register_beneficiary(
                actor,
                fiscal_code=code,
                first_name=first,
                last_name=last,
                comune_istat=rng.choices(comuni, weights)[0],
                categories=list(rng.choice(category_choices)),
                isee_cents=rng.randint(*isee_range) * 100,
                isee_valid_until=date(today.year, 12, 31),
            )
            people.append((person, offers))
    return people


def issue_vouchers(actor, rng, people, scheme_by_key, provider_by_key, start) -> list[Issued]:
    """The vouchers each person is eligible for, each with the provider who will serve it."""
    issued = []
    for person, offers in people:
        wanted = [key for key, odds in offers if rng.random() < odds] or [offers[0][0]]
        for key in wanted:
            scheme = scheme_by_key[key]
            day = start + timedelta(days=rng.randint(5, 60))
            # The social worker offers only what the person is eligible for.
            if not all(r.ok for r in eligibility.check_eligibility(scheme, person, day)):
                continue
            voucher, pin = issuance.issue_voucher(actor, scheme, person, day=day)
            choices = [
                p
                for k, _name, services in PROVIDERS
                if set(services) & set(scheme.service_codes)
                for p in [provider_by_key[k]]
            ]
            issued.append(Issued(voucher, pin, key, rng.choice(choices), day))
    return issued


def record_activity(rng, issued, provider_actors, worker_actor, today) -> None:
    """Redemptions over the past months, an exhausted voucher, two reversals and a
    revocation, in the order they would have happened to each voucher."""
    exhausted = next(i for i in issued if i.key == "meals" and i.voucher.coverage_percent == 100)
    revoked = [i for i in issued if i.key == "home_care"][1]
    reversed_ = {
        next(
            i for i in issued if i.key == "school"
        ).voucher.code: "Prestazione registrata due volte",
        next(
            i for i in issued if i.key == "transport"
        ).voucher.code: "Data della prestazione errata",
    }
    for number, item in enumerate(issued):
        quantities = SCHEMES[item.key][1]
        if item is exhausted:  # monthly deliveries of 20 meals, until nothing is left
            plan = ["20"] * int(units.value_units(item.voucher) // 20)
        else:
            plan = [rng.choice(quantities) for _ in range(rng.choice((1, 2, 2, 2, 3, 3, 4)))]
        if item.voucher.code in reversed_ and len(plan) < 2:
            plan.append(rng.choice(quantities))
        _redeem_over_time(rng, item, plan, provider_actors[_key_of(item.provider)], number, today)
        if item.voucher.code in reversed_:
            redemption.reverse_redemption(
                worker_actor, item.entries[0].id, reversed_[item.voucher.code]
            )
        if item is revoked:
            vouchers.revoke_voucher(
                worker_actor, item.voucher, "Trasferimento di residenza fuori dall'Ambito"
            )


def _redeem_over_time(rng, item: Issued, plan: list[str], actor, number: int, today) -> None:
    """One redemption per planned quantity, on days between issue and yesterday, while the
    balance lasts."""
    voucher, scheme = item.voucher, item.voucher.scheme
    first_day, last_day = item.issued_on + timedelta(days=3), today - timedelta(days=1)
    span = (last_day - first_day).days
    days = sorted(first_day + timedelta(days=rng.randint(0, span)) for _ in plan)
    for step, (quantity, day) in enumerate(zip(plan, days, strict=True)):
        cost = cost_of(Decimal(quantity), scheme.unit_price_cents)
        if public_share(cost, voucher.coverage_percent) > voucher.balance_cents:
            return
        entry, _replay = redemption.redeem(
            actor,
            item.provider.id,
            redemption.RedemptionRequest(
                voucher=voucher.code,
                service_code=rng.choice(scheme.service_codes),
                service_date=day,
                quantity=Decimal(quantity),
            ),
            f"demo-{number}-{step}",
            day=day,  # recorded as on the day of the service, so the date checks apply
        )
        item.entries.append(entry)


def _key_of(provider: Provider) -> str:
    return next(key for key, name, _s in PROVIDERS if name == provider.name)


def showcase(issued: list[Issued]) -> list[Issued]:
    """Two active vouchers with some history, from different schemes, to try /saldo with."""
    shown: list[Issued] = []
    for item in issued:
        if (
            item.voucher.status == "active"
            and item.entries
            and all(s.key != item.key for s in shown)
        ):
            shown.append(item)
        if len(shown) == 2:
            break
    return shown
