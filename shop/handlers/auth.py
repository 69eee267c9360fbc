"""POST /api/auth."""

from __future__ import annotations

from aiohttp import web

from shop.handlers.render import json_text
from shop.keys import HASHER, LOCKOUT, POOL, SETTINGS, TOKENS
from shop.middlewares import public
from shop.models import AuthRequest, AuthResponse
from shop.services import auth

routes = web.RouteTableDef()


@routes.post("/api/auth")
@public
async def login(request: web.Request) -> web.Response:
    creds = AuthRequest.model_validate_json(await request.read())
    app = request.app
    token = await auth.login(
        app[POOL],
        app[HASHER],
        app[TOKENS],
        creds.username,
        creds.password,
        policy=app[LOCKOUT],
        acquire_timeout=app[SETTINGS].pool_acquire_timeout,
    )
    return json_text(AuthResponse(token=token).model_dump_json())
