"""GET /metrics: Prometheus exposition, public like the health probes."""

from __future__ import annotations

from aiohttp import web

from shop.http.chain import public
from shop.observability import metrics

routes = web.RouteTableDef()


@routes.get("/metrics")
@public
async def scrape(_request: web.Request) -> web.Response:
    body, content_type = metrics.render()
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response
