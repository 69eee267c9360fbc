"""Merch: GET /api/buy/{item}."""

from __future__ import annotations

from aiohttp import web

from shop.http.responses import ok
from shop.keys import CONN, SETTINGS, USER
from shop.services import merch

routes = web.RouteTableDef()


# Any characters, newlines included (`.` would not match them), so that an empty, odd or
# slash-containing name is answered "unknown item", not "no such endpoint". HEAD must not buy.
@routes.get(r"/api/buy/{item:[\s\S]*}", allow_head=False)
async def buy(request: web.Request) -> web.Response:
    await merch.buy(
        request[CONN],
        buyer=request[USER],
        item=request.match_info["item"],
        attempts=request.app[SETTINGS].tx_attempts,
    )
    return ok()
