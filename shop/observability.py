"""Per-request bookkeeping: request id, access log line and metrics, in one middleware."""

from __future__ import annotations

import logging
import re
import secrets
import time

from aiohttp import web

from shop import metrics
from shop.keys import POOL
from shop.logs import REQUEST_ID
from shop.middlewares import Handler

access_log = logging.getLogger("shop.access")

REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_of(request: web.Request) -> str:
    """The caller's X-Request-Id when it is sane, else a new random one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SAFE_ID.fullmatch(given) else secrets.token_hex(8)


def route_of(request: web.Request) -> str:
    """The route template (bounded label values), not the raw path."""
    if request.match_info.http_exception is not None:
        return "unmatched"
    return request.match_info.route.resource.canonical if request.match_info.route.resource else "-"


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    request_id = request_id_of(request)
    REQUEST_ID.set(request_id)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    except web.HTTPException as exc:  # redirects and the like, which the error layer passes
        status = exc.status
        exc.headers[REQUEST_ID_HEADER] = request_id
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = route_of(request)
        metrics.REQUESTS.labels(route, request.method, str(status)).inc()
        metrics.LATENCY.labels(route).observe(elapsed)
        if route == "/api/auth":
            metrics.LOGINS.labels(metrics.LOGIN_OUTCOMES.get(status, "error")).inc()
        pool = request.app.get(POOL)
        if pool is not None:
            metrics.POOL_IN_USE.set(pool.get_size() - pool.get_idle_size())
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "%s %s %d",
                request.method,
                request.path,
                status,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "remote": request.remote,
                },
            )
