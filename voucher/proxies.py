"""Whose X-Forwarded-* headers are believed: only the configured reverse proxies'."""

from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from werkzeug.middleware.proxy_fix import ProxyFix


def parse_networks(allowed: str) -> list[IPv4Network | IPv6Network] | None:
    """The addresses and networks of a comma-separated list ("127.0.0.1,10.0.0.0/8"), as
    gunicorn's FORWARDED_ALLOW_IPS reads them; None for "*" (every peer). A malformed entry
    raises ValueError, so that a typo stops the server instead of trusting nobody."""
    entries = [entry.strip() for entry in allowed.split(",") if entry.strip()]
    if "*" in entries:
        return None
    return [ip_network(entry, strict=False) for entry in entries]


class TrustedProxyFix:
    """Werkzeug's ProxyFix, applied only when the request comes straight from one of the
    configured proxies.

    ProxyFix trusts by count: with one proxy it takes the last X-Forwarded-For address of
    every request, whoever sent it. A client that reaches the application server directly
    could then name any address it likes, and escape every per-address rate limit. Here
    the peer (REMOTE_ADDR) must be one of `allowed` first; from anyone else the headers are
    ignored and the peer's own address counts. A peer that is no IP address (a UNIX socket,
    which only the machine itself reaches) is trusted, as gunicorn does."""

    def __init__(self, app, count: int, allowed: str):
        self.app = app
        self.fixed = ProxyFix(app, x_for=count, x_proto=count, x_host=count)
        self.networks = parse_networks(allowed)

    def trusts(self, peer: str | None) -> bool:
        if self.networks is None:
            return True
        try:
            address = ip_address(peer or "")
        except ValueError:  # a UNIX socket: the server sets REMOTE_ADDR, never the client
            return True
        if getattr(address, "ipv4_mapped", None):
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.trusts(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
