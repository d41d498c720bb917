"""The demo's organisation: the ente, its schemes, the accredited providers, the staff and
the providers' API keys."""

import random
import secrets
from datetime import date

from stdnum import luhn

from ..models import Provider, Scheme, User
from ..services import Actor, ente, providers, reach, schemes, users
from .data import (
    API_KEY_PROVIDER,
    COMUNI,
    ENTE_NAME,
    OPERATOR_PROVIDER,
    PROVIDERS,
    SCHEMES,
)


def _new_password(username: str) -> str:
    while True:
        candidate = secrets.token_urlsafe(12)
        if username.lower() not in candidate.lower():
            return candidate


def create_login(
    actor, logins, password, username, role, full_name, note, provider_id=None
) -> User:
    """A user of the demo, with its login added to those printed at the end."""
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


def create_staff(actor, logins, password, provider_by_key) -> tuple[User, User, User]:
    """The social worker, the operator of one provider, the auditor and the ragioneria."""
    worker = create_login(
        actor, logins, password, "assistente", "social_worker", "Chiara Nocentini",
        "assistente sociale",
    )  # fmt: skip
    # She serves every Comune of the Ambito: the admin narrows them on her user page.
    reach.set_team(actor, worker, [c.id for c in ente.get_ente().comuni])
    provider = provider_by_key[OPERATOR_PROVIDER]
    operator = create_login(
        actor, logins, password, "operatore", "provider", "Marco Guidi",
        f"operatore di {provider.name}", provider_id=provider.id,
    )  # fmt: skip
    create_login(
        actor, logins, password, "revisore", "auditor", "Revisore dei conti",
        "revisore dei conti",
    )  # fmt: skip
    finance = create_login(
        actor, logins, password, "ragioneria", "finance", "Ufficio ragioneria",
        "ragioneria: paga i rendiconti approvati",
    )  # fmt: skip
    return worker, operator, finance


def create_api_keys(actor, logins, provider_by_key) -> dict[str, Actor]:
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


def create_ente(actor: Actor) -> None:
    """The Ambito and the Comuni it serves, seated in Sesto Fiorentino, with a fictional
    SIUSS code so that its flows can be generated."""
    ente.update_ente(
        actor,
        name=ENTE_NAME,
        fiscal_code=_ente_fiscal_code(),
        belfiore_code="I684",
        comuni=[{"istat_code": i, "belfiore_code": b, "name": n} for i, b, n, _w in COMUNI],
        siuss_code="DEMO048043",
    )


def create_schemes(actor: Actor, start: date, end: date) -> dict[str, Scheme]:
    """The demo's schemes, active over the demo period, by key."""
    created = {}
    for key, (data, _quantities) in SCHEMES.items():
        fields = dict(data, year=start.year, valid_from=start, valid_until=end)
        created[key] = schemes.create_scheme(actor, fields, status="active")
    return created


def _vat_number(rng: random.Random) -> str:
    """A valid partita IVA: company number, the Florence tax office (048), Luhn check."""
    base = f"{rng.randrange(10**6, 10**7):07d}048"
    return base + luhn.calc_check_digit(base)


def create_providers(actor: Actor, rng: random.Random, start: date) -> dict[str, Provider]:
    """The accredited providers, by key, accredited since the year before the period."""
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
