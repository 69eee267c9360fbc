"""POST /api/auth."""

from __future__ import annotations

from aiohttp import web

from shop.http.chain import public
from shop.http.responses import json_text
from shop.keys import ACCOUNTS
from shop.models import AuthRequest, AuthResponse

routes = web.RouteTableDef()


@routes.post("/api/auth")
@public
async def login(request: web.Request) -> web.Response:
    creds = AuthRequest.model_validate_json(await request.read())
    token = await request.app[ACCOUNTS].login(creds.username, creds.password)
    return json_text(AuthResponse(token=token).model_dump_json())
