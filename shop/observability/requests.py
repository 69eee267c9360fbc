"""Per-request bookkeeping: the request id, the access log line and the request metrics."""

from __future__ import annotations

import functools
import itertools
import logging
import re
import secrets

from aiohttp import web

from shop.observability import logs, metrics

access_log = logging.getLogger(logs.ACCESS_LOGGER)

REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A new id is this process's random prefix and a counter: unique across workers and restarts
# for all practical purposes, without a getrandom() system call per request.
_ID_PREFIX = secrets.token_hex(4)
_ids = itertools.count(1)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods named in metrics; any other token a client sends is counted as "other"."""


def request_id_of(request: web.Request) -> str:
    """The caller's X-Request-Id when it is sane, else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER)
    if given is not None and _SAFE_ID.fullmatch(given):
        return given
    return f"{_ID_PREFIX}{next(_ids) & 0xFFFFFFFF:08x}"


def route_of(request: web.Request) -> str:
    """The route template (bounded label values), not the raw path."""
    if request.match_info.http_exception is not None:
        return "unmatched"
    return request.match_info.route.resource.canonical if request.match_info.route.resource else "-"


@functools.lru_cache(maxsize=512)
def _counters(route: str, method: str, status: int) -> tuple[metrics.Tally, metrics.Observations]:
    """The metric children of one kind of request; labels() is too slow to call per request.

    Label values are bounded (route templates, known methods, status codes), and so is this.
    """
    return (
        metrics.Tally(metrics.REQUESTS.labels(route, method, str(status))),
        _latency(route),
    )


@functools.lru_cache(maxsize=128)
def _latency(route: str) -> metrics.Observations:
    return metrics.Observations(metrics.LATENCY.labels(route))


def record(request: web.Request, request_id: str, status: int, elapsed: float) -> None:
    """Count the request, observe its latency and write its access log line."""
    route = route_of(request)
    method = request.method
    requests, latency = _counters(route, method if method in METHODS else "other", status)
    requests.inc()
    latency.observe(elapsed)
    if route == "/api/auth":
        metrics.LOGINS.labels(metrics.LOGIN_OUTCOMES.get(status, "error")).inc()
    lines = logs.access_lines
    if lines is None and not access_log.isEnabledFor(logging.INFO):
        return
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
