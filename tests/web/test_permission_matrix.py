"""Every protected page × every role, generated from voucher.permissions.PERMISSIONS: the
"Accesso non consentito" page (403) for a role without the permission; past the check, and
never a 5xx, for a role with it. The hand-written access tests of each area stay: they
check real objects and what each page shows."""

import pytest

from tests import factories as f
from tests.matrix import ROLES, protected_calls


@pytest.fixture
def provider(app):
    f.make_ente()
    return f.make_provider()


def call(client, page_call):
    data = {} if page_call.method == "POST" else None
    return client.open(page_call.url, method=page_call.method, data=data)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_by_the_permission_table(app, client, provider, role):
    f.login(client, f.make_user(role, provider=provider if role == "provider" else None))
    calls = protected_calls(app, api=False)
    assert len(calls) > 40  # the generator found the pages
    wrong = []
    for page_call in calls:
        response = call(client, page_call)
        status = response.status_code
        if not page_call.allowed(role):
            if status != 403 or "Accesso non consentito" not in response.get_data(as_text=True):
                wrong.append(f"{page_call}: {status}, expected the 403 page")
        elif status == 403 or status >= 500:
            wrong.append(f"{page_call}: {status}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    wrong = [
        f"{page_call}: {response.status_code}"
        for page_call in protected_calls(app, api=False)
        if (response := call(client, page_call)).status_code != 302
        or not response.headers["Location"].startswith("/accesso?next=")
    ]
    assert not wrong, "\n".join(wrong)
