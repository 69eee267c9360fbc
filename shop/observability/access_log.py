"""The access log: one line per request, through the fast writer when logs.py set one up."""

from __future__ import annotations

import logging

from aiohttp import web

from shop.observability import logs

access_log = logging.getLogger(logs.ACCESS_LOGGER)


def write(request: web.Request, request_id: str, route: str, status: int, elapsed: float) -> None:
    """Write the request's access log line, unless nothing would read it."""
    lines = logs.access_lines
    if lines is None and not access_log.isEnabledFor(logging.INFO):
        return
    method = request.method
    fields = {
        "method": method,
        "path": request.path,
        "route": route,
        "status": status,
        "duration_ms": round(elapsed * 1000, 2),
        "remote": request.remote,
    }
    if lines is not None:
        try:
            lines.write(request_id, fields)
            return
        except (TypeError, OSError):  # unencodable or unwritable: logging reports it
            pass
    access_log.info("%s %s %d", method, fields["path"], status, extra=fields)
