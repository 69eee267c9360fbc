"""Security headers on every response, errors included, set in one place.

API responses get a policy that allows nothing; the web app's pages (marked with
`content_security_policy`) get one that allows their own files from this origin and nothing
inline, so an injected script or style cannot run even if some text slipped into the markup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import MappingProxyType
from typing import TypeVar

from aiohttp import web

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
"""Bodies are JSON or YAML for programs: nothing in them may load or run anything."""

APP_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""The web app: scripts, styles, images and API calls from this origin only, none inline."""

DOCS_POLICY = f"{APP_POLICY}; img-src 'self' data:"
"""Swagger UI: as the app, plus the data: SVG icons its stylesheet draws."""

SECURITY_HEADERS: MappingProxyType[str, str] = MappingProxyType(
    {
        # Never sniff a body into another type, never frame or cache it (bodies carry tokens
        # and balances), never leak the URL.
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": API_POLICY,
        "Referrer-Policy": "no-referrer",
    }
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

SERVER_NAME = "shop"
"""The whole `Server` header: aiohttp's default names Python's and its own versions."""

_POLICY_ATTR = "__shop_csp__"


def content_security_policy(policy: str) -> Callable[[H], H]:
    """Mark a page handler: its responses carry `policy` instead of the API's."""

    def mark(handler: H) -> H:
        setattr(handler, _POLICY_ATTR, policy)
        return handler

    return mark


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """An `on_response_prepare` signal: runs for handler results and middleware errors alike.

    Requests the HTTP parser rejects never reach it; shop/http/transport.py answers those.
    """
    response.headers.update(SECURITY_HEADERS)
    response.headers["Server"] = SERVER_NAME
    policy = getattr(request.match_info.handler, _POLICY_ATTR, None)
    if policy is not None:
        response.headers["Content-Security-Policy"] = policy
