"""After signing in each role lands on its own work, not on the generic home page; a local
`next` still wins, and a foreign one is still ignored."""

from urllib.parse import quote

import pytest

from tests import factories as f

LANDING = {
    "provider": "/fornitore/",
    "social_worker": "/servizi/beneficiari",
    "admin": "/rendiconti/cruscotto",
    "finance": "/rendiconti/ragioneria",
    "auditor": "/rendiconti/",
}


@pytest.mark.parametrize("role", LANDING)
def test_each_role_lands_on_its_work(client, role):
    provider = f.make_provider() if role == "provider" else None
    user = f.make_user(role, provider=provider)
    credentials = {"username": user.username, "password": f.PASSWORD}
    response = client.post("/accesso", data=credentials)
    assert response.status_code == 302
    assert response.headers["Location"] == LANDING[role]
    assert client.get(LANDING[role]).status_code == 200  # a page the role may open
    client.post("/esci")
    foreign = client.post("/accesso?next=//evil.example/", data=credentials)
    assert foreign.headers["Location"] == LANDING[role]
    client.post("/esci")
    own = client.post(f"/accesso?next={quote('/privacy?x=1')}", data=credentials)
    assert own.headers["Location"] == "/privacy?x=1"
