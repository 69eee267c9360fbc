"""GET /api/buy/{item}."""

from __future__ import annotations

from aiohttp import web

from shop.handlers.render import ok
from shop.keys import CONN, SETTINGS, USER
from shop.services import purchases

routes = web.RouteTableDef()


# `.*` so that an empty or slash-containing name is answered "unknown item", not "no route".
@routes.get("/api/buy/{item:.*}", allow_head=False)  # HEAD must not buy anything
async def buy(request: web.Request) -> web.Response:
    conn = await request[CONN].get()
    await purchases.buy(
        conn,
        request[USER],
        request.match_info["item"],
        attempts=request.app[SETTINGS].tx_attempts,
    )
    return ok()
