"""GET /healthz (the process answers) and GET /readyz (the database answers too)."""

from __future__ import annotations

from aiohttp import web

from shop.http.chain import public
from shop.http.responses import json_text
from shop.keys import CONN
from shop.repositories import health

routes = web.RouteTableDef()


@routes.get("/healthz")
@public
async def alive(_request: web.Request) -> web.Response:
    return json_text('{"status":"ok"}')


@routes.get("/readyz")
@public
async def ready(request: web.Request) -> web.Response:
    await health.ping(await request[CONN].get())
    return json_text('{"status":"ready"}')
