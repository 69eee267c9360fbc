"""Prometheus metrics and the /metrics exposition, single- or multi-process.

With several workers, `shop serve` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before
they start; each worker then writes its samples there and any worker can answer a scrape with
the sum over all of them.
"""

from __future__ import annotations

import os

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


def render() -> tuple[bytes, str]:
    """The exposition text for a scrape and its content type."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
