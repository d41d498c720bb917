"""How many balance checks (a voucher code and its PIN) one address may make, on the
/saldo form and on POST /api/v1/balance.

Guessing stops per code first: PIN_MAX_ATTEMPTS wrong PINs lock that code for everyone,
whatever the address (services.vouchers.check_pin). The per-address limit comes on top, so
that one address cannot try many codes; it is a setting (BALANCE_CHECKS_PER_ADDRESS a
minute on the form, API_BALANCE_CHECKS_PER_ADDRESS on the API). The ente's own offices
(OFFICE_NETWORKS) get a much higher limit (OFFICE_BALANCE_CHECKS_PER_ADDRESS): a front
desk helps family after family from one address, and must not be told "too many
attempts" for a right code and PIN. Their wrong PINs still lock each code.
"""

import ipaddress
from collections.abc import Iterable
from functools import cache

from flask import current_app, request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# The form allows this many times its per-minute limit in an hour.
HOURLY_FACTOR = 5


def parse_networks(value: str | Iterable[str | Network] | None) -> tuple[Network, ...]:
    """CIDR networks, comma- or space-separated ("10.20.0.0/16, 2001:db8::/48"); a single
    address is a network of one. Raises ValueError for anything else, at startup."""
    if not value:
        return ()
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    networks = []
    for item in items:
        if isinstance(item, ipaddress.IPv4Network | ipaddress.IPv6Network):
            networks.append(item)
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"OFFICE_NETWORKS: {item!r} is not a CIDR network") from error
    return tuple(networks)


@cache
def _cached_networks(value) -> tuple[Network, ...]:
    return parse_networks(value)


def in_networks(address: str | None, networks: Iterable[Network]) -> bool:
    """Whether the address is in one of the networks (an IPv4 address seen as IPv6,
    ::ffff:10.0.0.5, counts as itself)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


def from_office() -> bool:
    """Whether the request comes from one of the ente's office networks."""
    value = current_app.config.get("OFFICE_NETWORKS") or ()
    networks = _cached_networks(value if isinstance(value, str) else tuple(value))
    return bool(networks) and in_networks(request.remote_addr, networks)


def _setting(name: str, default: int) -> int:
    return max(1, int(current_app.config.get(name, default)))


def _office_limit() -> str:
    return f"{_setting('OFFICE_BALANCE_CHECKS_PER_ADDRESS', 600)} per minute"


def form_limit() -> str:
    """The /saldo form's limit for this request's address (Flask-Limiter's limit string)."""
    if from_office():
        return _office_limit()
    per_minute = _setting("BALANCE_CHECKS_PER_ADDRESS", 10)
    return f"{per_minute} per minute;{per_minute * HOURLY_FACTOR} per hour"


def api_limit() -> str:
    """POST /api/v1/balance's limit for this request's address."""
    if from_office():
        return _office_limit()
    return f"{_setting('API_BALANCE_CHECKS_PER_ADDRESS', 30)} per minute"
