"""GET /api/openapi.yaml: the contract this service answers to, for clients and fuzzers."""

from __future__ import annotations

import functools
from importlib import resources

from aiohttp import web

from shop.http.chain import public

routes = web.RouteTableDef()


@functools.cache
def contract_bytes() -> bytes:
    """The document shipped inside the package, read once; it cannot change while we run."""
    return resources.files("shop").joinpath("openapi.yaml").read_bytes()


@routes.get("/api/openapi.yaml")
@public
async def openapi(_request: web.Request) -> web.Response:
    return web.Response(body=contract_bytes(), content_type="application/yaml", charset="utf-8")
