"""The employee web app: GET / (its one page) and GET /app/{name} (its modules, styles, icon).

The files are those of shop/assets.py: only known ones, by exact name.
"""

from __future__ import annotations

from aiohttp import web

from shop.assets import assets, page
from shop.http.chain import public
from shop.http.headers import APP_POLICY, content_security_policy

routes = web.RouteTableDef()


@routes.get("/")
@public
@content_security_policy(APP_POLICY)
async def index(_request: web.Request) -> web.Response:
    return web.Response(body=page("index.html"), content_type="text/html", charset="utf-8")


@routes.get("/app/{name}")
@public
async def asset(request: web.Request) -> web.Response:
    found = assets().get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound()
    body, content_type = found
    return web.Response(body=body, content_type=content_type, charset="utf-8")
