"""Response helpers shared by the handlers."""

from __future__ import annotations

from aiohttp import web


def json_text(text: str) -> web.Response:
    return web.Response(text=text, content_type="application/json")


def ok() -> web.Response:
    """The contract's 200 without a body (sendCoin, buy)."""
    return web.Response(status=200)
