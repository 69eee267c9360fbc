"""Merch: GET /api/items (the catalog, public) and GET /api/buy/{item}."""

from __future__ import annotations

from aiohttp import web

from shop import idempotency
from shop.http.chain import public
from shop.http.responses import json_text, stored_response
from shop.keys import CONN, SETTINGS, USER
from shop.models import ItemsQuery
from shop.services import merch

routes = web.RouteTableDef()


@routes.get("/api/items")
@public
async def items(request: web.Request) -> web.Response:
    ItemsQuery.from_query(request.query.items())
    return json_text(merch.catalog_json())


# Any characters, newlines included (`.` would not match them), so that an empty, odd or
# slash-containing name is answered "unknown item", not "no such endpoint". HEAD must not buy.
@routes.get(r"/api/buy/{item:[\s\S]*}", allow_head=False)
async def buy(request: web.Request) -> web.Response:
    answer = await merch.buy(
        request[CONN],
        buyer=request[USER],
        item=request.match_info["item"],
        attempts=request.app[SETTINGS].tx_attempts,
        key=idempotency.parse_key(request.headers.getall(idempotency.HEADER, ())),
    )
    return stored_response(answer.status, answer.body, replayed=answer.replayed)
