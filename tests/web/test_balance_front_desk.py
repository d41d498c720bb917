"""A front desk helping family after family from one address: the ente's office networks
(OFFICE_NETWORKS) may check many vouchers on /saldo and POST /api/v1/balance, while any other
address keeps the per-address limit, which is a setting (BALANCE_CHECKS_PER_ADDRESS,
API_BALANCE_CHECKS_PER_ADDRESS). Wrong PINs lock each code wherever they come from."""

import os

import pytest

from tests import factories as f
from tests.conftest import BACKENDS, make_app
from voucher.balance_limits import in_networks, parse_networks
from voucher.config import Config
from voucher.extensions import db, limiter
from voucher.services import SYSTEM, issuance

OFFICE = {"REMOTE_ADDR": "10.9.4.20"}
OFFICE_V6 = {"REMOTE_ADDR": "2001:db8:5::17"}
HOME = {"REMOTE_ADDR": "192.0.2.33"}
FORM_LIMIT, API_LIMIT = 4, 6


def wrong_pin(pin: str) -> str:
    return f"{(int(pin) + 1) % 10**6:06d}"


@pytest.fixture(params=BACKENDS)
def desk(request, tmp_path):
    """An application of its own, on a database committed to for real, with rate limits on,
    an office network, low per-address limits and three issued vouchers (code, PIN)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    previous, instance = limiter.enabled, os.environ.get("VOUCHER_INSTANCE_PATH")
    app = make_app(
        url,
        tmp_path / "instance",
        RATELIMIT_ENABLED=True,
        OFFICE_NETWORKS="10.9.0.0/16, 2001:db8:5::/48",
        BALANCE_CHECKS_PER_ADDRESS=FORM_LIMIT,
        API_BALANCE_CHECKS_PER_ADDRESS=API_LIMIT,
    )
    try:
        with app.app_context():
            f.make_ente()
            scheme = f.make_scheme()
            issued = [
                issuance.issue_voucher(SYSTEM, scheme, f.make_beneficiary()) for _ in range(3)
            ]
            db.session.commit()
            vouchers = [(voucher.code, pin) for voucher, pin in issued]
            db.session.remove()
        yield app.test_client(), vouchers
    finally:
        limiter.enabled = previous
        if instance is not None:
            os.environ["VOUCHER_INSTANCE_PATH"] = instance


def form(client, code, pin, where):
    return client.post("/saldo", data={"code": code, "pin": pin}, environ_base=where)


def api(client, code, pin, where):
    return client.post("/api/v1/balance", json={"code": code, "pin": pin}, environ_base=where)


def test_the_office_checks_many_families_where_an_address_outside_is_stopped(desk):
    client, vouchers = desk
    # Outside the office, the configured limit: the next check is refused, right PIN or not.
    for _ in range(FORM_LIMIT):
        assert form(client, "AAAA-BBBB-CCCC-DDDD", "123456", HOME).status_code == 200
    code, pin = vouchers[0]
    refused = form(client, code, pin, HOME)
    assert refused.status_code == 429
    assert "Troppi tentativi da questo collegamento" in refused.get_data(as_text=True)

    # At the front desk: family after family, and a mistyped code now and then.
    for _round in range(4):
        for code, pin in vouchers:
            assert form(client, code, pin, OFFICE).status_code == 303
        assert form(client, "AAAA-BBBB-CCCC-DDDD", "123456", OFFICE).status_code == 200
    assert form(client, vouchers[1][0], vouchers[1][1], OFFICE).status_code == 303
    assert form(client, vouchers[2][0], vouchers[2][1], OFFICE_V6).status_code == 303


def test_wrong_pins_from_the_office_still_lock_the_code(desk):
    client, vouchers = desk
    (code, pin), (other_code, other_pin), _third = vouchers
    for _ in range(5):
        wrong = form(client, code, wrong_pin(pin), OFFICE)
        assert wrong.status_code == 200 and "non sono corretti" in wrong.get_data(as_text=True)
    locked = form(client, code, pin, OFFICE)
    assert locked.status_code == 429
    assert "bloccato per 15 minuti" in locked.get_data(as_text=True)
    assert api(client, code, pin, OFFICE).get_json()["code"] == "locked"
    # The desk goes on with the next family.
    assert form(client, other_code, other_pin, OFFICE).status_code == 303


def test_the_api_follows_the_same_rules(desk):
    client, vouchers = desk
    for _ in range(API_LIMIT):
        assert api(client, "AAAA-BBBB-CCCC-DDDD", "123456", HOME).status_code == 401
    assert api(client, *vouchers[0], HOME).get_json()["code"] == "rate_limited"
    for _ in range(3):
        for code, pin in vouchers:
            assert api(client, code, pin, OFFICE).status_code == 200
        assert api(client, "AAAA-BBBB-CCCC-DDDD", "123456", OFFICE).status_code == 401
    answer = api(client, *vouchers[0], OFFICE)
    assert answer.status_code == 200 and answer.get_json()["code"] == vouchers[0][0]
    code, pin = vouchers[2]
    for _ in range(5):
        assert api(client, code, wrong_pin(pin), OFFICE).status_code == 401
    assert api(client, code, pin, OFFICE).get_json()["code"] == "locked"


def test_office_networks_are_cidr_networks_checked_at_startup(monkeypatch, tmp_path):
    networks = parse_networks("10.9.0.0/16, 2001:db8:5::/48 192.168.7.4")
    assert [str(n) for n in networks] == ["10.9.0.0/16", "2001:db8:5::/48", "192.168.7.4/32"]
    assert in_networks("10.9.255.1", networks) and in_networks("::ffff:10.9.0.1", networks)
    assert in_networks("192.168.7.4", networks) and not in_networks("192.168.7.5", networks)
    assert not in_networks("10.10.0.1", networks) and not in_networks("", networks)
    assert not in_networks("not an address", networks)
    assert parse_networks("") == () and parse_networks(None) == ()
    monkeypatch.setenv("OFFICE_NETWORKS", "10.9.0.0/16,ufficio")
    with pytest.raises(ValueError, match="'ufficio' is not a CIDR network"):
        Config(str(tmp_path))
    monkeypatch.setenv("OFFICE_NETWORKS", "10.9.0.0/16")
    monkeypatch.delenv("BALANCE_CHECKS_PER_ADDRESS", raising=False)
    config = Config(str(tmp_path))
    assert [str(network) for network in config.OFFICE_NETWORKS] == ["10.9.0.0/16"]
    assert (config.BALANCE_CHECKS_PER_ADDRESS, config.API_BALANCE_CHECKS_PER_ADDRESS) == (10, 30)
