"""Every protected API endpoint × every role, generated from voucher.permissions.PERMISSIONS:
403 `forbidden` for a role without the permission; past the check, and never a 5xx, for a
role with it. The hand-written role tests of each resource stay: they check real objects."""

import pytest

from tests import factories as f
from tests.api.voucher_world import api_key_headers, bearer
from tests.matrix import ROLES, permissions_in_use, protected_calls
from voucher.permissions import PERMISSIONS

# A provider calls with its operator's session token or with the provider's API key.
CREDENTIALS = [*ROLES, "provider_api_key"]


@pytest.fixture
def headers_for(app):
    f.make_ente()
    provider = f.make_provider()

    def headers(credential: str) -> dict:
        if credential == "provider_api_key":
            return api_key_headers(provider)
        return bearer(
            f.make_user(credential, provider=provider if credential == "provider" else None)
        )

    return headers


def call(client, endpoint_call, headers):
    body = {} if endpoint_call.method in {"POST", "PUT", "PATCH"} else None
    return client.open(endpoint_call.url, method=endpoint_call.method, json=body, headers=headers)


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_every_endpoint_answers_each_role_by_the_permission_table(
    app, client, headers_for, credential
):
    role = "provider" if credential == "provider_api_key" else credential
    headers = headers_for(credential)
    calls = protected_calls(app, api=True)
    assert len(calls) > 40  # the generator found the API
    wrong = []
    for endpoint_call in calls:
        response = call(client, endpoint_call, headers)
        status = response.status_code
        if not endpoint_call.allowed(role):
            body = response.get_json(silent=True) or {}
            if status != 403 or body.get("code") != "forbidden":
                wrong.append(
                    f"{endpoint_call}: {status} {body.get('code')}, expected 403 forbidden"
                )
        elif status == 403 or status >= 500:
            wrong.append(f"{endpoint_call}: {status}, {response.get_data(as_text=True)[:200]}")
    assert not wrong, f"{role} ({credential}):\n" + "\n".join(wrong)


def test_anonymous_calls_are_401(app, client):
    wrong = [
        f"{endpoint_call}: {response.status_code}"
        for endpoint_call in protected_calls(app, api=True)
        if (response := call(client, endpoint_call, {})).status_code != 401
        or response.get_json()["code"] != "unauthorized"
    ]
    assert not wrong, "\n".join(wrong)


def test_every_permission_guards_some_endpoint(app):
    unused = set(PERMISSIONS) - permissions_in_use(app)
    assert not unused, f"permissions no page or endpoint requires: {sorted(unused)}"
    unknown = permissions_in_use(app) - set(PERMISSIONS)
    assert not unknown, f"views require permissions the table lacks: {sorted(unknown)}"
