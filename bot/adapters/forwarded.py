"""Who is really asking, behind a reverse proxy the operator trusts (nginx in front of
several instances): the address limits and lockouts count is the client's, not the proxy's."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _within(address: str | None, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(remote: str | None, forwarded_for: str,
                   trusted: Sequence[Network]) -> str | None:
    """The client's address: from a trusted proxy, the last X-Forwarded-For hop that is not
    itself a trusted proxy (the hops before it are whatever the client chose to send)."""
    if not _within(remote, trusted):
        return remote
    for hop in reversed(forwarded_for.split(",")):
        hop = hop.strip()
        if hop and not _within(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:  # a proxy that wrote garbage: keep its own address
                return remote
    return remote


def forwarded_middleware(trusted: Sequence[Network]) -> Middleware:
    """Give each request from a trusted proxy the client's address as `request.remote`."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        address = client_address(request.remote, request.headers.get("X-Forwarded-For", ""),
                                 trusted)
        if address is None or address == request.remote:
            return await handler(request)
        return await handler(request.clone(remote=address))

    return middleware
