"""The demo ente: an Ambito of the Florence area with months of activity behind it.

Everything is built through the services, so every rule (eligibility, budgets, accreditation,
balances, the audit chain) applies to the demo exactly as to real data. The random choices
come from one seeded generator, so two loads differ only in dates (relative to today), in
voucher codes, PINs and keys (which must stay unguessable) and in generated passwords.

`data` holds the tables of what the demo contains, `organisation` builds the ente, its
schemes, providers and staff, `activity` the beneficiaries, their vouchers and their use, and
`liquidation` the providers' payment data, statements, invoices and payments.
The caller commits (`flask --app voucher demo` through run_in_transaction).
"""

import random
from datetime import date, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import Ente, User
from ..services import SYSTEM, clock, providers, users
from .accounts import renew_one_isee, transfer_one
from .activity import issue_vouchers, record_activity, register_beneficiaries, showcase
from .data import COMUNI, OPERATOR_PROVIDER, SEED, SUSPENDED_PROVIDER
from .liquidation import record_payment_data, stage_liquidation
from .organisation import (
    create_api_keys,
    create_ente,
    create_login,
    create_providers,
    create_schemes,
    create_staff,
)

__all__ = ["COMUNI", "DemoNotEmpty", "database_is_empty", "demo_period", "load_demo"]


class DemoNotEmpty(Exception):
    """The demo is loaded only into an empty database (no ente, no users)."""


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
    admin = create_login(
        SYSTEM, logins, password, "admin", "admin", "Ufficio di piano", "amministratore"
    )
    admin_actor = users.actor_for(admin)
    create_ente(admin_actor)
    scheme_by_key = create_schemes(admin_actor, start, end)
    provider_by_key = create_providers(admin_actor, rng, start)
    worker, operator, finance = create_staff(admin_actor, logins, password, provider_by_key)
    provider_actors = create_api_keys(admin_actor, logins, provider_by_key)
    provider_actors[OPERATOR_PROVIDER] = users.actor_for(operator)

    worker_actor = users.actor_for(worker)
    people = register_beneficiaries(worker_actor, rng, today)
    issued = issue_vouchers(worker_actor, rng, people, scheme_by_key, provider_by_key, start)
    record_activity(rng, issued, provider_actors, worker_actor, today)
    transfer_one(worker_actor, issued, today)
    renew_one_isee(worker_actor, issued, today)
    record_payment_data(admin_actor, rng, provider_by_key, today)
    stage_liquidation(
        admin_actor,
        users.actor_for(finance),
        worker_actor,
        issued,
        provider_by_key,
        provider_actors,
        today,
    )
    providers.suspend_provider(
        admin_actor,
        provider_by_key[SUSPENDED_PROVIDER],
        reason="Verifica dei requisiti di accreditamento in corso",
    )
    db.session.flush()
    for item in showcase(issued):
        logins.append(
            {
                "role": "buono",
                "username": item.voucher.code,
                "password": item.pin,
                "note": f"PIN del buono «{item.voucher.scheme.name}»: saldo su /saldo",
            }
        )
    return logins
