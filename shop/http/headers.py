"""Security headers on every response, errors included, set in one place."""

from __future__ import annotations

from types import MappingProxyType

from aiohttp import web

SECURITY_HEADERS: MappingProxyType[str, str] = MappingProxyType(
    {
        # Bodies are JSON or YAML for programs: never sniff them into HTML, never frame or
        # render them, never cache them (they carry tokens and balances), never leak the URL.
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        "Referrer-Policy": "no-referrer",
    }
)


SERVER_NAME = "shop"
"""The whole `Server` header: aiohttp's default names Python's and its own versions."""


async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """An `on_response_prepare` signal: runs for handler results and middleware errors alike.

    Requests the HTTP parser rejects never reach it; shop/http/transport.py answers those.
    """
    response.headers.update(SECURITY_HEADERS)
    response.headers["Server"] = SERVER_NAME
