"""GET /api/buy/{item}."""

from __future__ import annotations

from aiohttp import web

from shop.handlers.render import ok
from shop.keys import CONN, SETTINGS, USER
from shop.services import purchases

routes = web.RouteTableDef()


# Any characters, newlines included (`.` would not match them), so that an empty, odd or
# slash-containing name is answered "unknown item", not "no such endpoint". HEAD must not buy.
@routes.get(r"/api/buy/{item:[\s\S]*}", allow_head=False)
async def buy(request: web.Request) -> web.Response:
    await purchases.buy(
        request[CONN],
        request[USER],
        request.match_info["item"],
        attempts=request.app[SETTINGS].tx_attempts,
    )
    return ok()
