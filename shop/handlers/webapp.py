"""The employee web app: GET / (its one page) and GET /app/{name} (its modules, styles, icon).

The files ship inside the package (shop/web); only those present there with a known type are
served, looked up by exact name, so no request path can reach any other file.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable

from aiohttp import web

from shop.http.chain import public
from shop.http.headers import APP_POLICY, content_security_policy

routes = web.RouteTableDef()

CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}


def web_dir() -> Traversable:
    return resources.files("shop").joinpath("web")


@functools.cache
def assets() -> dict[str, tuple[bytes, str]]:
    """Every servable file of shop/web by name, with its content type; read once."""
    found: dict[str, tuple[bytes, str]] = {}
    for entry in web_dir().iterdir():
        content_type = CONTENT_TYPES.get("." + entry.name.rpartition(".")[2])
        if entry.is_file() and content_type is not None:
            found[entry.name] = (entry.read_bytes(), content_type)
    return found


@functools.cache
def page(name: str) -> bytes:
    return web_dir().joinpath(name).read_bytes()


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
