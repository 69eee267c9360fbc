"""The caller's wallet: GET /api/info, GET /api/history and POST /api/sendCoin."""

from __future__ import annotations

from aiohttp import web

from shop import idempotency
from shop.http.responses import json_text, stored_response
from shop.keys import CONN, SETTINGS, USER, WALLET_CACHE
from shop.models import HistoryQuery, SendCoinRequest
from shop.services import wallet

routes = web.RouteTableDef()


@routes.get("/api/info")
async def info(request: web.Request) -> web.Response:
    return json_text(
        await wallet.account_info(request[CONN], request[USER], request.app[WALLET_CACHE])
    )


@routes.get("/api/history")
async def history(request: web.Request) -> web.Response:
    query = HistoryQuery.from_query(request.query.items())
    page = await wallet.movements(request[CONN], request[USER], query)
    return json_text(page.model_dump_json())


@routes.post("/api/sendCoin")
async def send_coin(request: web.Request) -> web.Response:
    key = idempotency.parse_key(request.headers.getall(idempotency.HEADER, ()))
    body = SendCoinRequest.model_validate_json(await request.read())
    answer = await wallet.send_coins(
        request[CONN],
        sender=request[USER],
        to_user=body.to_user,
        amount=body.amount,
        attempts=request.app[SETTINGS].tx_attempts,
        key=key,
        message=body.message,
    )
    return stored_response(answer.status, answer.body, replayed=answer.replayed)
