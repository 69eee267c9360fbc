"""Grants (treasurer): POST /api/admin/grants and GET /api/admin/grants/{id}."""

from __future__ import annotations

from aiohttp import web

from shop import idempotency
from shop.http.responses import json_text, stored_response
from shop.keys import CONN, SETTINGS, USER
from shop.models import GrantRequest
from shop.services import grants

routes = web.RouteTableDef()

GRANT_MAX_BODY_BYTES = 1024 * 1024
"""Room for 1000 names of 64 characters, however they are spelt in JSON (the shop's other
bodies stop at MAX_BODY_BYTES, 16 KiB by default)."""


@routes.post("/api/admin/grants")
async def give(request: web.Request) -> web.Response:
    key = idempotency.parse_key(request.headers.getall(idempotency.HEADER, ()))
    limit = max(GRANT_MAX_BODY_BYTES, request.app[SETTINGS].max_body_bytes)
    whole = request.clone(client_max_size=limit)
    body = GrantRequest.model_validate_json(await whole.read())
    answer = await grants.give(
        request[CONN],
        request[USER],
        body,
        key=key,
        attempts=request.app[SETTINGS].tx_attempts,
    )
    return stored_response(answer.status, answer.body, replayed=answer.replayed)


# Any characters, so that an odd id is answered "no grant", not "no such endpoint".
@routes.get(r"/api/admin/grants/{id:[\s\S]*}")
async def progress(request: web.Request) -> web.Response:
    return json_text(await grants.progress(request[CONN], request[USER], request.match_info["id"]))
