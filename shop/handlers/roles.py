"""Who the caller is (GET /api/me) and the roles admins give and take (/api/admin/roles)."""

from __future__ import annotations

from aiohttp import web

from shop.auth import authority
from shop.http.responses import json_text, ok
from shop.keys import CONN, USER
from shop.models import MeResponse, RoleHolding, RoleRequest, RolesResponse
from shop.services import roles

routes = web.RouteTableDef()


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    caller = request[USER]
    held = await roles.held(request[CONN], caller)
    body = MeResponse.model_validate({"username": caller.username, "roles": held})
    return json_text(body.model_dump_json())


@routes.get("/api/admin/roles")
async def list_roles(request: web.Request) -> web.Response:
    holdings = await roles.everyone(await request[CONN].get(), request[USER])
    body = RolesResponse(
        roles=[
            RoleHolding.model_validate({"username": h.username, "role": h.role}) for h in holdings
        ]
    )
    return json_text(body.model_dump_json())


@routes.post("/api/admin/roles")
async def give_role(request: web.Request) -> web.Response:
    body = RoleRequest.model_validate_json(await request.read())
    await roles.give(await request[CONN].get(), request[USER], body.username, body.role)
    return ok()


# /{username}/{role}, matched as one tail so that a name with odd characters, or a slash, is
# answered "does not exist" rather than "no such endpoint"; roles have no slash.
@routes.delete(r"/api/admin/roles/{target:[\s\S]*}")
async def take_role(request: web.Request) -> web.Response:
    username, _, role_name = request.match_info["target"].rpartition("/")
    role = authority.parse_role(role_name)
    await roles.take(await request[CONN].get(), request[USER], username, role)
    return ok()
