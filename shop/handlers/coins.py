"""POST /api/sendCoin."""

from __future__ import annotations

from aiohttp import web

from shop.handlers.render import ok
from shop.keys import CONN, SETTINGS, USER
from shop.models import SendCoinRequest
from shop.services import wallet

routes = web.RouteTableDef()


@routes.post("/api/sendCoin")
async def send_coin(request: web.Request) -> web.Response:
    body = SendCoinRequest.model_validate_json(await request.read())
    await wallet.send_coins(
        request[CONN],
        request[USER],
        body.to_user,
        body.amount,
        attempts=request.app[SETTINGS].tx_attempts,
    )
    return ok()
