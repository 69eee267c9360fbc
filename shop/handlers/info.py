"""GET /api/info."""

from __future__ import annotations

from aiohttp import web

from shop.handlers.render import json_text
from shop.keys import CONN, USER, WALLET_CACHE
from shop.services import wallet

routes = web.RouteTableDef()


@routes.get("/api/info")
async def info(request: web.Request) -> web.Response:
    return json_text(
        await wallet.account_info(request[CONN], request[USER], request.app[WALLET_CACHE])
    )
