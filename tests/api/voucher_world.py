"""A small world for the voucher, redemption and balance API tests: an ente, a scheme paid
by the hour, an accredited provider, a beneficiary and a signed-in user per role."""

from dataclasses import dataclass, field
from datetime import timedelta

from tests import factories as f
from voucher.extensions import db
from voucher.services import SYSTEM, clock, issuance, providers, users

ROLES = ("admin", "social_worker", "auditor", "provider")


@dataclass
class World:
    client: object
    scheme: object
    provider: object
    person: object
    users: dict = field(default_factory=dict)
    _headers: dict = field(default_factory=dict)

    def headers(self, role: str) -> dict:
        """Bearer headers for a user of `role` (the provider's operator for "provider")."""
        if role is None:
            return {}
        if role not in self._headers:
            user = f.make_user(role, provider=self.provider if role == "provider" else None)
            self.users[role] = user
            self._headers[role] = bearer(user)
        return self._headers[role]

    def issue(self, scheme=None, person=None, day=None):
        """A voucher issued through the service, committed; returns (voucher, pin)."""
        voucher, pin = issuance.issue_voucher(
            SYSTEM, scheme or self.scheme, person or self.person, day=day
        )
        db.session.commit()
        return voucher, pin


def make_world(client, **scheme_overrides) -> World:
    f.make_ente()
    scheme = f.make_scheme(**scheme_overrides)
    provider = f.make_provider(services=("A1", "A2"), valid_from=clock.today() - timedelta(400))
    person = f.make_beneficiary()
    return World(client=client, scheme=scheme, provider=provider, person=person)


def bearer(user) -> dict:
    """Bearer headers for `user`, with a session token made directly: signing in through
    POST /auth/token is tested elsewhere, and each password check costs half a second."""
    token, _seconds = users.issue_token(user, timedelta(hours=1))
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def api_key_headers(provider) -> dict:
    key = providers.create_api_key(SYSTEM, provider)
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code and body["status"] == status
    assert body["title"] and body["detail"]
    return body
