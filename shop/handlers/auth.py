"""POST /api/auth."""

from __future__ import annotations

from aiohttp import web

from shop.http.chain import public
from shop.http.client_address import client_address
from shop.http.responses import json_text
from shop.keys import ACCOUNTS, SETTINGS
from shop.models import AuthRequest, AuthResponse

routes = web.RouteTableDef()


@routes.post("/api/auth")
@public
async def login(request: web.Request) -> web.Response:
    creds = AuthRequest.model_validate_json(await request.read())
    client = client_address(request, request.app[SETTINGS].trusted_proxies)
    token = await request.app[ACCOUNTS].login(creds.username, creds.password, client)
    return json_text(AuthResponse(token=token).model_dump_json())
