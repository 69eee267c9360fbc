"""Who is calling: the peer's address, or the client's as reported by a trusted proxy.

X-Forwarded-For is written by whoever sends the request, so it is believed only when the
peer itself is one of TRUSTED_PROXIES; then the right-most address that is not a trusted
proxy is the client (each proxy appends the address it received the request from, so
everything to its left may be forged by the client); if every hop is trusted, the left-most.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "unknown"


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(request: web.Request, trusted: Sequence[Network]) -> str:
    """The address login throttling is keyed by."""
    peer = _parse(request.remote or "")
    if peer is None:
        return request.remote or UNKNOWN
    if not any(peer in net for net in trusted):
        return str(peer)
    forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
    nearest = peer
    for hop in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = _parse(hop)
        if address is None:
            return str(peer)  # a garbled chain: trust nothing in it
        if not any(address in net for net in trusted):
            return str(address)
        nearest = address
    # Every hop is a trusted range (a client on the proxies' own network, or Docker's gateway
    # for a published port): the first proxy's peer is still the best-known caller, whereas
    # the last proxy's address would put every client under one throttle key.
    return str(nearest)
