"""The client's address: the TCP peer, or what a trusted reverse proxy says it is.

uvicorn runs with `proxy_headers=False`, so it never rewrites the client from
`X-Forwarded-For`. This middleware does, and only when the TCP peer is one of
`EJOURNAL_TRUSTED_PROXIES` (addresses or CIDRs, comma-separated): then the client is the
right-most address of `X-Forwarded-For` that is not itself a trusted proxy. Entries left of it
were written by the client and are never believed. Login throttling, the request log and the
security log all read `request.client`, which this middleware sets."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_ADDRESS = 100  # longer "addresses" from a proxy are cut, they only go to logs


def parse_networks(spec: str | Iterable[str]) -> tuple[Network, ...]:
    """`"127.0.0.1, 10.0.0.0/8, ::1"` → networks; a bad entry is an error at start-up."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    networks = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"EJOURNAL_TRUSTED_PROXIES: not an address or CIDR: {item!r}"
            ) from None
    return tuple(networks)


def is_trusted(host: str | None, trusted: tuple[Network, ...]) -> bool:
    if not host or not trusted:
        return False
    try:
        address = ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        return False  # "testclient", unix sockets, garbage: never a trusted proxy
    return any(address.version == n.version and address in n for n in trusted)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str | None:
    """The client's address given the TCP peer and the `X-Forwarded-For` header (or None).

    Without trusted proxies, or from a peer that is not one, the header is ignored."""
    if not forwarded_for or not is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    if not hops:
        return peer
    for hop in reversed(hops):
        if not is_trusted(hop, trusted):
            return hop[:MAX_ADDRESS]
    # Every hop is a trusted proxy: the left-most is the nearest thing to a client.
    return hops[0][:MAX_ADDRESS]


class ClientAddressMiddleware:
    """Sets scope["client"] (and the scheme, from X-Forwarded-Proto) behind trusted proxies."""

    def __init__(self, app: ASGIApp, trusted_proxies: str = "") -> None:
        self.app = app
        self.trusted = parse_networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.trusted and scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            host = peer[0] if peer else None
            if is_trusted(host, self.trusted):
                headers = dict(scope.get("headers") or [])  # the last of repeated headers
                joined = b", ".join(
                    v for k, v in scope.get("headers") or [] if k == b"x-forwarded-for"
                )
                forwarded = joined.decode("latin-1") if joined else None
                client = client_address(host, forwarded, self.trusted)
                if client != host:
                    scope = dict(scope)
                    scope["client"] = (client, 0)
                proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1")
                proto = proto.split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    scope = dict(scope)
                    if scope["type"] == "websocket":
                        proto = "wss" if proto == "https" else "ws"
                    scope["scheme"] = proto
        await self.app(scope, receive, send)
