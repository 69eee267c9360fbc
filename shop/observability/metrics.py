"""Prometheus metrics and the /metrics exposition, single- or multi-process.

With several workers, `shop serve` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before
they start; each worker then writes its samples there and any worker can answer a scrape with
the sum over all of them.

In that mode every increment is a write into a shared file under a lock, several per request.
So the per-request metrics are counted in plain Python (`Tally`, `Observations`) and published
into those values in bulk: every PUBLISH_SECONDS, when a worker stops, and by the worker that
answers a scrape before it renders. A scrape is therefore exact for the worker that answers
it and at most PUBLISH_SECONDS behind for the others; one process alone is always exact.
"""

from __future__ import annotations

import asyncio
import functools
import os
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "shop_http_requests_total",
    "HTTP requests by route, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "shop_http_request_duration_seconds",
    "Time from the request's arrival to its response, by route.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LOGINS = Counter("shop_logins_total", "POST /api/auth by outcome.", ["outcome"])
TX_RETRIES = Counter(
    "shop_transaction_retries_total", "Serializable transactions re-run after 40001/40P01."
)
TX_CONFLICTS = Counter(
    "shop_transaction_conflicts_total", "Transactions given up after every attempt conflicted."
)
INFO_BODIES = Counter(
    "shop_info_bodies_total",
    "/api/info bodies served, by where they came from: rendered or this worker's copy.",
    ["source"],
)
POOL_IN_USE = Gauge(
    "shop_db_pool_connections_in_use",
    "Pooled connections held by requests, summed over live workers.",
    multiprocess_mode="livesum",
)

LOGIN_OUTCOMES = {200: "success", 400: "invalid", 401: "rejected"}
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods named in metrics; any other token a client sends is counted as "other"."""

PUBLISH_SECONDS = 1.0
"""How far behind a scrape the other workers' per-request metrics may be."""

_unpublished: list[Tally | Observations] = []


class Tally:
    """Increments of one counter or gauge child, held until published (negative: a gauge)."""

    __slots__ = ("_child", "_pending", "_queued")

    def __init__(self, child: Any) -> None:
        self._child = child
        self._pending = 0
        self._queued = False

    def inc(self, amount: int = 1) -> None:
        self._pending += amount
        if not self._queued:
            self._queued = True
            _unpublished.append(self)

    def publish(self) -> None:
        self._queued = False
        if self._pending:
            amount, self._pending = self._pending, 0
            self._child.inc(amount)


class Observations:
    """Observations of one histogram child, held until published through its observe().

    Holding the values and adding bucket counts in bulk through the child's private fields
    cost as much CPU per request as this (docs/performance.md, "Private internals").
    """

    __slots__ = ("_child", "_queued", "_values")

    def __init__(self, child: Any) -> None:
        self._child = child
        self._values: list[float] = []
        self._queued = False

    def observe(self, amount: float) -> None:
        self._values.append(amount)
        if not self._queued:
            self._queued = True
            _unpublished.append(self)

    def publish(self) -> None:
        self._queued = False
        values, self._values = self._values, []
        for value in values:
            self._child.observe(value)


def publish() -> None:
    """Write every held per-request count into the Prometheus values."""
    pending = _unpublished[:]
    _unpublished.clear()
    for held in pending:
        held.publish()


async def publish_periodically() -> None:
    """This worker's share of the scrape, kept at most PUBLISH_SECONDS old."""
    while True:
        await asyncio.sleep(PUBLISH_SECONDS)
        publish()


POOL_HELD = Tally(POOL_IN_USE)
"""Connections taken (+1) and given back (-1) by requests, as published to the gauge."""


def route_of(request: web.Request) -> str:
    """The route template (bounded label values), not the raw path."""
    if request.match_info.http_exception is not None:
        return "unmatched"
    return request.match_info.route.resource.canonical if request.match_info.route.resource else "-"


@functools.lru_cache(maxsize=512)
def _counters(route: str, method: str, status: int) -> tuple[Tally, Observations]:
    """The metric children of one kind of request; labels() is too slow to call per request.

    Label values are bounded (route templates, known methods, status codes), and so is this.
    """
    return Tally(REQUESTS.labels(route, method, str(status))), _latency(route)


@functools.lru_cache(maxsize=128)
def _latency(route: str) -> Observations:
    return Observations(LATENCY.labels(route))


def count_request(route: str, method: str, status: int, elapsed: float) -> None:
    """Count one request and observe its latency (and a login's outcome)."""
    requests, latency = _counters(route, method if method in METHODS else "other", status)
    requests.inc()
    latency.observe(elapsed)
    if route == "/api/auth":
        LOGINS.labels(LOGIN_OUTCOMES.get(status, "error")).inc()


def render() -> tuple[bytes, str]:
    """The exposition text for a scrape and its content type, this worker's counts included."""
    publish()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
