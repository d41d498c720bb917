"""Every operation of the OpenAPI document, fuzzed in process with schemathesis: no input,
valid or malformed, gets a server error, and every answer matches the schema documented
for its status. A bounded version of scripts/fuzz_api, for CI; the pages' forms and query
strings get theirs in tests/security/test_fuzz_pages.py.

The application runs on a database of its own filled by the demo, committed for real. Each
operation gets valid and invalid requests with generated path parameters, and valid ones
on objects that exist (so that the handlers run past their 404s), signed in as the demo
admin and then with a demo provider's API key.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import select

from tests.conftest import BACKENDS, create_postgres_database, drop_postgres_database, make_app
from voucher.demo import load_demo
from voucher.extensions import db, limiter
from voucher.models import Accreditation, ApiKey, Beneficiary, LedgerEntry, Scheme, User, Voucher
from voucher.services import users

# Per operation and caller: about 650 requests in all. scripts/fuzz_api goes further.
EXAMPLES = 6
CHECKS = [not_a_server_error, response_schema_conformance]
DEMO_PASSWORD = "una-frase-per-la-demo"


@pytest.fixture(params=BACKENDS)
def demo_app(request, tmp_path, monkeypatch):
    """An application on a fresh database with the demo ente in it."""
    monkeypatch.setenv("VOUCHER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fuzz.sqlite3'}"
    else:
        url = create_postgres_database("voucher_fuzz")
    app = make_app(url, tmp_path / "instance")
    with app.app_context():
        logins = load_demo(password=DEMO_PASSWORD)
        db.session.commit()
        callers = {
            "admin": users.issue_token(
                db.session.execute(select(User).where(User.role == "admin")).scalars().first(),
                app.config["API_TOKEN_TTL"],
            )[0],
            "provider": next(x["password"] for x in logins if x["role"] == "chiave-api"),
        }
        db.session.commit()
        existing = existing_path_parameters()
        db.session.remove()
    try:
        yield app, callers, existing
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if request.param == "postgresql":
            drop_postgres_database(url)


def first_id(column):
    return db.session.execute(select(column).order_by(column).limit(1)).scalar_one()


def existing_path_parameters() -> dict:
    """Path parameters naming objects of the demo, by parameter name."""
    redemption = db.session.execute(
        select(LedgerEntry).where(LedgerEntry.kind == "redemption").limit(1)
    ).scalar_one()
    accreditation = db.session.execute(select(Accreditation).limit(1)).scalar_one()
    key = db.session.execute(select(ApiKey).limit(1)).scalar_one()
    return {
        "provider_id": redemption.provider_id,
        "scheme_id": first_id(Scheme.id),
        "beneficiary_id": first_id(Beneficiary.id),
        "code": redemption.voucher.code,
        "entry_id": redemption.id,
        "accreditation_id": accreditation.id,
        "key_id": key.id,
        "month": redemption.service_date.strftime("%Y-%m"),
        "voucher_id": first_id(Voucher.id),
    }


def fuzz_operation(operation, headers: dict, pinned: dict) -> str | None:
    """Fuzz one operation within its bound; return the failure's report, if any."""
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    if pinned:  # valid requests on objects that exist reach past the 404s
        strategies.append(operation.as_strategy(path_parameters=pinned))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests in every run: CI stays repeatable
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except Exception as error:  # noqa: BLE001 - every failure is reported by the test
        return f"{operation.label}: {error}"
    return None


def test_no_operation_fails_or_breaks_its_schema(demo_app):
    app, callers, existing = demo_app
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    failures = []
    for caller, token in callers.items():
        headers = {"Authorization": f"Bearer {token}"}
        for operation in operations:
            names = {p.name for p in operation.path_parameters}
            pinned = {name: existing[name] for name in names if name in existing}
            failure = fuzz_operation(operation, headers, pinned)
            if failure:
                failures.append(f"[{caller}] {failure}")
    assert not failures, "\n\n".join(failures)
