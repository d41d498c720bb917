"""The demo ente: an Ambito of the Florence area with months of activity behind it.

Everything is built through the services, so every rule (eligibility, budgets, accreditation,
balances, the audit chain) applies to the demo exactly as to real data. The random choices
come from one seeded generator, so two loads differ only in dates (relative to today), in
voucher codes, PINs and keys (which must stay unguessable) and in generated passwords.
"""

import random
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from codicefiscale import codicefiscale
from sqlalchemy import select
from stdnum import luhn

from .extensions import db
from .models import Ente, Provider, Scheme, User, Voucher
from .services import (
    SYSTEM,
    Actor,
    beneficiaries,
    clock,
    ente,
    providers,
    redemption,
    schemes,
    users,
    vouchers,
)
from .services.money import cost_of, public_share

SEED = 2026


class DemoNotEmpty(Exception):
    """The demo is loaded only into an empty database (no ente, no users)."""


# The Comuni of the Società della Salute Fiorentina Nord-Ovest. ISTAT codes from ISTAT's
# list of Italian Comuni; Belfiore codes as in python-codicefiscale's municipality data.
# The weight is roughly the population, so that residents spread as they would.
COMUNI = (
    ("048005", "B406", "Calenzano", 18),
    ("048006", "B507", "Campi Bisenzio", 47),
    ("048015", "D575", "Fiesole", 14),
    ("048024", "E466", "Lastra a Signa", 20),
    ("048041", "B962", "Scandicci", 50),
    ("048043", "I684", "Sesto Fiorentino", 48),
    ("048044", "I728", "Signa", 19),
    ("048046", "L529", "Vaglia", 5),
)

ENTE_NAME = "Società della Salute Fiorentina Nord-Ovest"

# (key, name, accredited services); the last one is suspended once its work is recorded.
PROVIDERS = (
    ("melograno", "Il Melograno Cooperativa Sociale", ("A1", "A3", "A4", "C1")),
    ("mensa", "La Mensa Solidale Società Cooperativa Sociale", ("A2",)),
    ("girasole", "Centro Diurno Il Girasole Cooperativa Sociale", ("C2", "C3")),
    ("educare", "Educare Insieme Cooperativa Sociale", ("B1", "B2", "B3", "P2", "P4")),
    ("trasporti", "Trasporti Sociali della Piana Cooperativa Sociale", ("C3",)),
    ("bisenzio", "Assistenza Domiciliare Bisenzio S.r.l.", ("A1", "A4", "C1")),
)
OPERATOR_PROVIDER = "melograno"
API_KEY_PROVIDER = "mensa"
SUSPENDED_PROVIDER = "bisenzio"

_COPAY_BANDS = [
    {"isee_max_cents": 800_000, "coverage_percent": 100},
    {"isee_max_cents": 1_500_000, "coverage_percent": 80},
    {"isee_max_cents": 2_500_000, "coverage_percent": 60},
    {"isee_max_cents": 4_000_000, "coverage_percent": 40},
]

# key → scheme fields (without dates, year and status) and the quantities of one service.
SCHEMES = {
    "home_care": (
        dict(
            name="Assistenza domiciliare anziani",
            description="Ore di assistenza domiciliare sociale e aiuto domestico per persone "
            "anziane, con compartecipazione per fasce ISEE.",
            fund_code="FSC_OS",
            service_codes=["A1", "A4"],
            unit="HOUR",
            unit_price_cents=2_250,
            face_value_cents=135_000,
            budget_cents=6_000_000,
            eligible_categories=["elderly_self_sufficient", "elderly_dependent"],
            min_age=65,
            max_active_per_beneficiary=1,
            max_redemption_cents=20_000,
            copay_bands=_COPAY_BANDS,
        ),
        ("1.5", "2", "2", "2.5", "3"),
    ),
    "meals": (
        dict(
            name="Pasti a domicilio",
            description="Pasti consegnati a domicilio a persone anziane sole.",
            fund_code="FSC_OS",
            service_codes=["A2"],
            unit="MEAL",
            unit_price_cents=750,
            face_value_cents=60_000,
            budget_cents=3_000_000,
            eligible_categories=["elderly_self_sufficient", "elderly_dependent"],
            min_age=65,
            isee_max_cents=3_000_000,
            max_active_per_beneficiary=1,
        ),
        ("5", "8", "10", "12", "15"),
    ),
    "school": (
        dict(
            name="Sostegno educativo minori in età scolare",
            description="Ore di sostegno educativo e doposcuola per minori in età scolare.",
            fund_code="FSC_OS",
            service_codes=["B3"],
            unit="HOUR",
            unit_price_cents=2_400,
            face_value_cents=96_000,
            budget_cents=2_500_000,
            eligible_categories=["minor", "fragile_parenting"],
            min_age=6,
            max_age=17,
            max_active_per_beneficiary=1,
        ),
        ("2", "3", "4"),
    ),
    "day_centre": (
        dict(
            name="Centro diurno disabili",
            description="Accessi giornalieri ai centri diurni per persone con disabilità.",
            fund_code="FSC_OS",
            service_codes=["C2"],
            unit="ACCESS",
            unit_price_cents=4_500,
            face_value_cents=225_000,
            budget_cents=5_000_000,
            eligible_categories=["disabled"],
            max_active_per_beneficiary=1,
        ),
        ("2", "4", "5", "8"),
    ),
    "transport": (
        dict(
            name="Trasporto sociale disabili",
            description="Corse di trasporto verso centri diurni, scuole e luoghi di cura.",
            fund_code="FSC_OS",
            service_codes=["C3"],
            unit="TRIP",
            unit_price_cents=1_800,
            face_value_cents=72_000,
            budget_cents=2_000_000,
            eligible_categories=["disabled"],
            max_active_per_beneficiary=1,
        ),
        ("2", "4", "6"),
    ),
    "poverty": (
        dict(
            name="Sostegno socio-educativo ai nuclei in povertà",
            description="Interventi socio-educativi domiciliari e territoriali per i nuclei "
            "beneficiari di misure di inclusione (D.Lgs. 147/2017, art. 7).",
            fund_code="FONDO_POVERTA",
            service_codes=["P2", "P4"],
            unit="HOUR",
            unit_price_cents=2_600,
            face_value_cents=104_000,
            budget_cents=2_500_000,
            eligible_categories=["inclusion_household"],
            isee_max_cents=1_014_000,
            max_active_per_beneficiary=1,
        ),
        ("2", "3", "4"),
    ),
    "pnrr": (
        dict(
            name="PNRR M5C2 1.2 - Percorsi di autonomia per persone con disabilità",
            description="Assistenza domiciliare per l'autonomia delle persone con disabilità.",
            fund_code="PNRR",
            cup="J84H22000130006",
            service_codes=["C1"],
            unit="HOUR",
            unit_price_cents=2_300,
            face_value_cents=138_000,
            budget_cents=1_500_000,
            eligible_categories=["disabled"],
            min_age=18,
            max_age=64,
            max_active_per_beneficiary=1,
        ),
        ("2", "3", "4"),
    ),
}

# (group, how many, age range, category choices, ISEE range in euro, schemes with odds)
GROUPS = (
    (
        "elderly",
        18,
        (67, 91),
        (["elderly_self_sufficient"], ["elderly_dependent"]),
        (4_000, 34_000),
        (("home_care", 0.75), ("meals", 0.7)),
    ),
    (
        "minor",
        8,
        (7, 15),
        (["minor"], ["minor", "fragile_parenting"]),
        (3_000, 22_000),
        (("school", 1.0),),
    ),
    (
        "disabled",
        10,
        (21, 62),
        (["disabled"],),
        (5_000, 30_000),
        (("day_centre", 0.8), ("transport", 0.8), ("pnrr", 0.6)),
    ),
    (
        "inclusion",
        8,
        (27, 58),
        (["inclusion_household"],),
        (1_500, 9_800),
        (("poverty", 1.0),),
    ),
)

FIRST_NAMES = {
    "F": (
        "Anna", "Giulia", "Maria", "Rosa", "Lucia", "Franca", "Silvia", "Elena", "Paola",
        "Carla", "Marta", "Sara", "Chiara", "Bruna", "Laura", "Ilaria", "Gemma", "Alice",
    ),
    "M": (
        "Mario", "Luca", "Giorgio", "Paolo", "Sergio", "Franco", "Marco", "Andrea", "Piero",
        "Renzo", "Bruno", "Lorenzo", "Tommaso", "Matteo", "Duccio", "Gino", "Enzo", "Leonardo",
    ),
}  # fmt: skip
LAST_NAMES = (
    "Bartolini", "Bianchi", "Cecchi", "Fabbri", "Ferrari", "Gori", "Guidi", "Innocenti",
    "Lombardi", "Mancini", "Martini", "Masi", "Niccolai", "Nocentini", "Pieri", "Poggi",
    "Rossi", "Sarti", "Tognetti", "Vannini",
)  # fmt: skip
BIRTHPLACES = (
    ("Firenze", 12), ("Sesto Fiorentino", 3), ("Prato", 2), ("Pistoia", 1),
    ("Arezzo", 1), ("Napoli", 1), ("Palermo", 1), ("Roma", 1),
)  # fmt: skip
FOREIGN = (
    ("F", "Elona", "Hoxha", "Albania"),
    ("M", "Youssef", "Benali", "Marocco"),
    ("M", "Andrei", "Popescu", "Romania"),
    ("F", "Rosa", "Quispe", "Peru"),
)


@dataclass
class _Issued:
    voucher: Voucher
    pin: str
    key: str
    provider: Provider
    issued_on: date
    entries: list = field(default_factory=list)


def database_is_empty() -> bool:
    """True when no ente and no user exist yet: the only state the demo loads into."""
    has_ente = db.session.execute(select(Ente.id).limit(1)).first() is not None
    has_user = db.session.execute(select(User.id).limit(1)).first() is not None
    return not (has_ente or has_user)


def demo_period(today: date) -> tuple[date, date]:
    """Twelve months of validity that began eight months ago: whenever the demo is loaded,
    there are months of activity behind and months of validity ahead."""
    months = today.year * 12 + today.month - 1 - 8
    start = date(months // 12, months % 12 + 1, 1)
    end = date(start.year + 1, start.month, 1) - timedelta(days=1)
    return start, end


def load_demo(password: str | None = None) -> list[dict]:
    """Fill an empty database with the demo Ambito; return what to print: the logins, one
    API key and two vouchers with their PINs (as role, username, password, note)."""
    if not database_is_empty():
        raise DemoNotEmpty(
            "Il database contiene già dati (un ente o degli utenti): "
            "i dati dimostrativi si caricano solo in un database vuoto."
        )
    if password is not None:
        users.check_password_policy(password)
    rng = random.Random(SEED)
    today = clock.today()
    start, end = demo_period(today)

    logins: list[dict] = []
    admin = _user(SYSTEM, logins, password, "admin", "admin", "Ufficio di piano", "amministratore")
    admin_actor = users.actor_for(admin)
    _create_ente(admin_actor)
    scheme_by_key = _create_schemes(admin_actor, start, end)
    provider_by_key = _create_providers(admin_actor, rng, start)
    worker, operator = _create_staff(admin_actor, logins, password, provider_by_key)
    provider_actors = _create_api_keys(admin_actor, logins, provider_by_key)
    provider_actors[OPERATOR_PROVIDER] = users.actor_for(operator)

    worker_actor = users.actor_for(worker)
    people = _register_beneficiaries(worker_actor, rng, today)
    issued = _issue_vouchers(worker_actor, rng, people, scheme_by_key, provider_by_key, start)
    _record_activity(rng, issued, provider_actors, worker_actor, today)
    providers.suspend_provider(
        admin_actor,
        provider_by_key[SUSPENDED_PROVIDER],
        reason="Verifica dei requisiti di accreditamento in corso",
    )
    db.session.flush()
    for item in _showcase(issued):
        logins.append(
            {
                "role": "buono",
                "username": item.voucher.code,
                "password": item.pin,
                "note": f"PIN del buono «{item.voucher.scheme.name}»: saldo su /saldo",
            }
        )
    return logins


def _new_password(username: str) -> str:
    while True:
        candidate = secrets.token_urlsafe(12)
        if username.lower() not in candidate.lower():
            return candidate


def _user(actor, logins, password, username, role, full_name, note, provider_id=None) -> User:
    secret = password or _new_password(username)
    user = users.create_user(
        actor,
        username=username,
        password=secret,
        role=role,
        provider_id=provider_id,
        full_name=full_name,
    )
    logins.append({"role": role, "username": username, "password": secret, "note": note})
    return user


def _create_staff(actor, logins, password, provider_by_key) -> tuple[User, User]:
    """The social worker, the operator of one provider and the auditor."""
    worker = _user(
        actor, logins, password, "assistente", "social_worker", "Chiara Nocentini",
        "assistente sociale",
    )  # fmt: skip
    provider = provider_by_key[OPERATOR_PROVIDER]
    operator = _user(
        actor, logins, password, "operatore", "provider", "Marco Guidi",
        f"operatore di {provider.name}", provider_id=provider.id,
    )  # fmt: skip
    _user(
        actor, logins, password, "revisore", "auditor", "Ufficio ragioneria",
        "revisore dei conti",
    )  # fmt: skip
    return worker, operator


def _create_api_keys(actor, logins, provider_by_key) -> dict[str, Actor]:
    """An API key for each provider without an operator (their management software records
    the services); one of them is printed so that the API can be tried with it."""
    actors = {}
    for key, provider in provider_by_key.items():
        if key == OPERATOR_PROVIDER:
            continue
        api_key = providers.create_api_key(actor, provider, label="Gestionale")
        actors[key] = providers.actor_for_api_key(providers.authenticate_api_key(api_key))
        if key == API_KEY_PROVIDER:
            logins.append(
                {
                    "role": "chiave-api",
                    "username": key,
                    "password": api_key,
                    "note": f"API di {provider.name}: Authorization: Bearer <chiave>",
                }
            )
    return actors


def _ente_fiscal_code() -> str:
    # Entities' fiscal codes are 11 digits like a partita IVA; this one is fictional.
    base = "9400001048"
    return base + luhn.calc_check_digit(base)


def _create_ente(actor: Actor) -> None:
    ente.update_ente(
        actor,
        name=ENTE_NAME,
        fiscal_code=_ente_fiscal_code(),
        belfiore_code=None,
        comuni=[{"istat_code": i, "belfiore_code": b, "name": n} for i, b, n, _w in COMUNI],
    )


def _create_schemes(actor: Actor, start: date, end: date) -> dict[str, Scheme]:
    created = {}
    for key, (data, _quantities) in SCHEMES.items():
        fields = dict(data, year=start.year, valid_from=start, valid_until=end)
        created[key] = schemes.create_scheme(actor, fields, status="active")
    return created


def _vat_number(rng: random.Random) -> str:
    """A valid partita IVA: company number, the Florence tax office (048), Luhn check."""
    base = f"{rng.randrange(10**6, 10**7):07d}048"
    return base + luhn.calc_check_digit(base)


def _create_providers(actor: Actor, rng: random.Random, start: date) -> dict[str, Provider]:
    accredited_from = date(start.year - 1, 1, 1)
    created = {}
    for key, name, services in PROVIDERS:
        created[key] = providers.create_provider(
            actor,
            name=name,
            vat_number=_vat_number(rng),
            email=f"servizi@{key}.example.it",
            accreditations=[
                {"service_code": s, "valid_from": accredited_from, "valid_until": None}
                for s in services
            ],
        )
    return created


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


def _register_beneficiaries(actor: Actor, rng: random.Random, today: date) -> list[tuple]:
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


def _issue_vouchers(actor, rng, people, scheme_by_key, provider_by_key, start) -> list[_Issued]:
    issued = []
    for person, offers in people:
        wanted = [key for key, odds in offers if rng.random() < odds] or [offers[0][0]]
        for key in wanted:
            scheme = scheme_by_key[key]
            day = start + timedelta(days=rng.randint(5, 60))
            # The social worker offers only what the person is eligible for.
            if not all(r.ok for r in vouchers.check_eligibility(scheme, person, day)):
                continue
            voucher, pin = vouchers.issue_voucher(actor, scheme, person, day=day)
            choices = [
                p
                for k, _name, services in PROVIDERS
                if set(services) & set(scheme.service_codes)
                for p in [provider_by_key[k]]
            ]
            issued.append(_Issued(voucher, pin, key, rng.choice(choices), day))
    return issued


def _record_activity(rng, issued, provider_actors, worker_actor, today) -> None:
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
        scheme = item.voucher.scheme
        quantities = SCHEMES[item.key][1]
        if item is exhausted:  # monthly deliveries of 20 meals, until nothing is left
            plan = ["20"] * (item.voucher.value_cents // (20 * scheme.unit_price_cents))
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


def _redeem_over_time(rng, item: _Issued, plan: list[str], actor, number: int, today) -> None:
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


def _showcase(issued: list[_Issued]) -> list[_Issued]:
    """Two active vouchers with some history, from different schemes, to try /saldo with."""
    shown: list[_Issued] = []
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
