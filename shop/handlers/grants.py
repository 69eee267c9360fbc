"""Grants (treasurer): POST /api/admin/grants and GET /api/admin/grants/{id}."""

from __future__ import annotations

from aiohttp import web

from shop.http.responses import json_text, stored_response
from shop.keys import CONN, SETTINGS, USER
from shop.models import GrantRequest
from shop.services import grants, idempotency

routes = web.RouteTableDef()


@routes.post("/api/admin/grants")
async def give(request: web.Request) -> web.Response:
    key = idempotency.parse_key(request.headers.getall(idempotency.HEADER, ()))
    body = GrantRequest.model_validate_json(await request.read())
    answer = await grants.give(
        request[CONN],
        request[USER],
        body,
        key=key,
        attempts=request.app[SETTINGS].tx_attempts,
    )
    return stored_response(answer.status, answer.body, replayed=answer.replayed)


@routes.get("/api/admin/grants/{id}")
async def progress(request: web.Request) -> web.Response:
    return json_text(await grants.progress(request[CONN], request[USER], request.match_info["id"]))
