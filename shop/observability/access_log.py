"""The access log: one JSON line per request, through logging like every other line."""

from __future__ import annotations

import logging

from aiohttp import web

from shop.observability import logs

access_log = logging.getLogger(logs.ACCESS_LOGGER)


def write(request: web.Request, route: str, status: int, elapsed: float) -> None:
    """Write the request's access log line, unless nothing would read it.

    The formatter adds `request_id` from the context the observe middleware set.
    """
    if not access_log.isEnabledFor(logging.INFO):
        return
    fields = {
        "method": request.method,
        "path": request.path,
        "route": route,
        "status": status,
        "duration_ms": round(elapsed * 1000, 2),
        "remote": request.remote,
    }
    access_log.info("%s %s %d", request.method, request.path, status, extra=fields)
