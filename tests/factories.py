"""Factories for domain objects, built through the services so every rule applies."""

import itertools
import random
from datetime import date, timedelta

from codicefiscale import codicefiscale

from voucher.extensions import db
from voucher.services import SYSTEM, Actor, beneficiaries, clock, ente, providers, schemes, users

FIRENZE = {"istat_code": "048017", "belfiore_code": "D612", "name": "Firenze"}
FIESOLE = {"istat_code": "048015", "belfiore_code": "D575", "name": "Fiesole"}
PRATO = {"istat_code": "100005", "belfiore_code": "G999", "name": "Prato"}
ENTE_CF = "01307110484"  # a valid 11-digit ente fiscal code
ENTE_SIUSS_CODE = "SDS048017"  # the ente's SIUSS code (INPS assigns it)
PASSWORD = "corretto-cavallo-batteria"

_counter = itertools.count(1)
_VAT_BASE = 1234560


def make_ente(comuni=(FIRENZE, FIESOLE), belfiore_code="D612", siuss_code=ENTE_SIUSS_CODE):
    """The ente: an Ambito seated in Firenze, with its SIUSS code."""
    e = ente.update_ente(
        SYSTEM,
        name="Società della Salute di Prova",
        fiscal_code=ENTE_CF,
        belfiore_code=belfiore_code,
        comuni=[dict(c) for c in comuni],
        siuss_code=siuss_code,
    )
    db.session.commit()
    return e


def this_year_window():
    today = clock.today()
    return date(today.year, 1, 1), date(today.year, 12, 31)


def scheme_data(**overrides) -> dict:
    start, end = this_year_window()
    data = dict(
        name=f"Misura {next(_counter)}",
        fund_code="FSC_OS",
        year=start.year,
        service_codes=["A1", "A2"],
        unit="HOUR",
        unit_price_cents=2000,
        face_value_cents=50_000,
        valid_from=start,
        valid_until=end,
        budget_cents=10_000_000,
        eligible_categories=[],
    )
    data.update(overrides)
    return data


def make_scheme(status="active", **overrides):
    s = schemes.create_scheme(SYSTEM, scheme_data(**overrides), status=status)
    db.session.commit()
    return s


def valid_vat(seed: int | None = None) -> str:
    """A valid partita IVA: company number, office code and Luhn check digit."""
    from stdnum import luhn

    # 7 digits of company number, then the 3-digit provincial office (048: Firenze)
    base = f"{(seed if seed is not None else _VAT_BASE + next(_counter)) % 10**7:07d}048"
    return base + luhn.calc_check_digit(base)


def make_provider(services=("A1", "A2"), valid_from=None, valid_until=None, **overrides):
    start = valid_from or this_year_window()[0]
    p = providers.create_provider(
        SYSTEM,
        name=overrides.pop("name", f"Cooperativa {next(_counter)}"),
        vat_number=overrides.pop("vat_number", valid_vat()),
        accreditations=[
            {"service_code": s, "valid_from": start, "valid_until": valid_until} for s in services
        ],
        **overrides,
    )
    db.session.commit()
    return p


_NAMES = ["Rossi", "Bianchi", "Verdi", "Russo", "Ferrari", "Esposito", "Romano", "Gallo"]
_FIRST = {"M": ["Mario", "Luca", "Giorgio", "Paolo"], "F": ["Anna", "Giulia", "Maria", "Rosa"]}


def fiscal_code_for(
    birth_date: date, sex: str = "F", last_name=None, first_name=None, birthplace="Firenze"
) -> str:
    last_name = last_name or random.choice(_NAMES)  # noqa: S311
    first_name = first_name or random.choice(_FIRST[sex])  # noqa: S311
    return codicefiscale.encode(
        lastname=last_name,
        firstname=first_name,
        gender=sex,
        birthdate=birth_date.strftime("%d/%m/%Y"),
        birthplace=birthplace,
    )


_used_dates: set[date] = set()


def unique_birth_date(age: int) -> date:
    """A birth date `age` years ago, distinct within the run, so fiscal codes differ."""
    base = clock.today() - timedelta(days=365 * age + 200)
    for offset in range(0, 5000):
        day = base - timedelta(days=offset)
        if day not in _used_dates and clock.today().year - day.year >= age:
            _used_dates.add(day)
            return day
    raise RuntimeError("no birth date left")


def make_beneficiary(
    age=80,
    sex="F",
    comune=FIRENZE,
    categories=("elderly_self_sufficient",),
    isee_cents=1_000_000,
    isee_valid_until=None,
    **overrides,
):
    birth = overrides.pop("birth_date", None) or unique_birth_date(age)
    first = overrides.pop("first_name", random.choice(_FIRST[sex]))  # noqa: S311
    last = overrides.pop("last_name", random.choice(_NAMES))  # noqa: S311
    code = overrides.pop("fiscal_code", None) or fiscal_code_for(birth, sex, last, first)
    b = beneficiaries.register_beneficiary(
        SYSTEM,
        fiscal_code=code,
        first_name=first,
        last_name=last,
        comune_istat=comune["istat_code"],
        categories=list(categories),
        isee_cents=isee_cents,
        isee_valid_until=isee_valid_until or (clock.today() + timedelta(days=365)),
        **overrides,
    )
    db.session.commit()
    return b


def make_user(role="admin", provider=None, username=None):
    u = users.create_user(
        SYSTEM,
        username=username or f"{role}{next(_counter)}",
        password=PASSWORD,
        role=role,
        provider_id=provider.id if provider else None,
    )
    db.session.commit()
    return u


def actor(user) -> Actor:
    return users.actor_for(user)


def api_token(client, user) -> dict:
    """Authorization headers for `user`, through POST /api/v1/auth/token."""
    response = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def login(client, user):
    """Sign in on the pages."""
    response = client.post("/accesso", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.data[:500]
    return response


# The social-services office families are told to call (what the letter and /saldo print).
OFFICE = {
    "office_phone": "055 4496111",
    "office_email": "servizi.sociali@sds-prova.example",
    "office_address": "Piazza Vittorio Veneto 1, Sesto Fiorentino",
    "office_hours": "lunedì-venerdì 9-12, giovedì anche 15-17",
}


def make_office_contacts(**overrides):
    """Give the ente (made already) its office contacts."""
    from voucher.services import ente_office

    e = ente_office.update_office_contacts(SYSTEM, ente.get_ente(), **{**OFFICE, **overrides})
    db.session.commit()
    return e
