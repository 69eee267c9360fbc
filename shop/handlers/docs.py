"""The API's documentation: the contract itself and an interactive Swagger UI over it.

GET /api/openapi.yaml serves the contract, for clients and fuzzers. GET /docs is Swagger UI
from the `swagger-ui-bundle` package on PyPI, served from here (no CDN); a module of ours
(shop/web/docs.js) starts it, since the page's policy refuses inline scripts.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

from shop.assets import page
from shop.http.chain import public
from shop.http.headers import DOCS_POLICY, content_security_policy

routes = web.RouteTableDef()

SWAGGER_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}


@functools.cache
def contract_bytes() -> bytes:
    """The document shipped inside the package, read once; it cannot change while we run."""
    return resources.files("shop").joinpath("openapi.yaml").read_bytes()


@functools.cache
def swagger_asset(name: str) -> bytes:
    return Path(swagger_ui_path, name).read_bytes()


@routes.get("/api/openapi.yaml")
@public
async def openapi(_request: web.Request) -> web.Response:
    return web.Response(body=contract_bytes(), content_type="application/yaml", charset="utf-8")


@routes.get("/docs")
@public
@content_security_policy(DOCS_POLICY)
async def swagger_ui(_request: web.Request) -> web.Response:
    return web.Response(body=page("docs.html"), content_type="text/html", charset="utf-8")


@routes.get("/docs/assets/{name}")
@public
async def swagger_ui_asset(request: web.Request) -> web.Response:
    """Only the few files the page uses, by exact name."""
    name = request.match_info["name"]
    content_type = SWAGGER_ASSETS.get(name)
    if content_type is None:
        raise web.HTTPNotFound()
    charset = None if content_type.startswith("image/") else "utf-8"
    return web.Response(body=swagger_asset(name), content_type=content_type, charset=charset)
