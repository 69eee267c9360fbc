"""Request ids, JSON access logs and Prometheus metrics."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Iterator

import pytest

from shop.observability.logs import JsonFormatter
from tests.api.conftest import MakeEmployee
from tests.helpers import ShopClient, bearer, sample


@pytest.fixture
def access_lines() -> Iterator[io.StringIO]:
    """The access log as the JSON lines an operator would read."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("shop.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


async def test_every_response_carries_a_request_id(client: ShopClient) -> None:
    ok = await client.http.get("/healthz")
    error = await client.http.get("/api/info")

    assert len(ok.headers["X-Request-Id"]) == 16
    assert len(error.headers["X-Request-Id"]) == 16
    assert ok.headers["X-Request-Id"] != error.headers["X-Request-Id"]


async def test_server_made_request_ids_do_not_tell_the_next_ones(client: ShopClient) -> None:
    ids = [(await client.http.get("/healthz")).headers["X-Request-Id"] for _ in range(20)]

    assert len(set(ids)) == 20
    # A prefix and a counter would share their first half and step by one.
    assert len({request_id[:8] for request_id in ids}) == 20
    assert all(int(ids[n + 1], 16) - int(ids[n], 16) != 1 for n in range(19))


async def test_a_sane_incoming_request_id_is_kept_and_an_odd_one_replaced(
    client: ShopClient,
) -> None:
    kept = await client.http.get("/healthz", headers={"X-Request-Id": "trace-42.a_b"})
    replaced = await client.http.get("/healthz", headers={"X-Request-Id": "bad id\u00e9" * 10})

    assert kept.headers["X-Request-Id"] == "trace-42.a_b"
    assert replaced.headers["X-Request-Id"] != "bad id\u00e9" * 10


async def test_access_log_is_one_json_object_per_request(
    client: ShopClient, make_employee: MakeEmployee, access_lines: io.StringIO
) -> None:
    employee = await make_employee()
    before = await (await client.http.get("/metrics")).text()
    access_lines.truncate(0)
    access_lines.seek(0)

    started = time.perf_counter()
    response = await client.http.get("/api/buy/laptop", headers=bearer(employee.token))
    round_trip_ms = (time.perf_counter() - started) * 1000

    entries = [json.loads(line) for line in access_lines.getvalue().splitlines()]
    after = await (await client.http.get("/metrics")).text()
    assert len(entries) == 1
    entry = entries[0]
    assert entry["request_id"] == response.headers["X-Request-Id"]
    assert (entry["method"], entry["path"], entry["route"], entry["status"]) == (
        "GET",
        "/api/buy/laptop",
        "/api/buy/{item}",
        400,
    )
    # The same measurement the latency histogram gets, and within the client's round trip.
    latency = "shop_http_request_duration_seconds_sum"
    observed_ms = 1000 * (
        sample(after, latency, route="/api/buy/{item}")
        - sample(before, latency, route="/api/buy/{item}")
    )
    assert entry["duration_ms"] == pytest.approx(observed_ms, abs=0.01)
    assert 0 < entry["duration_ms"] <= round_trip_ms
    assert employee.token not in access_lines.getvalue()


async def test_metrics_count_requests_by_route_and_status(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    before = await (await client.http.get("/metrics")).text()
    employee = await make_employee()
    await client.auth(employee.username, "wrong", expected_status=401)
    await client.info(employee.token)
    await client.buy(employee.token, "laptop", expected_status=400)

    response = await client.http.get("/metrics")
    after = await response.text()

    assert response.status == 200
    assert response.content_type == "text/plain"

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    total = "shop_http_requests_total"
    assert delta(total, route="/api/info", method="GET", status="200") == 1
    assert delta(total, route="/api/buy/{item}", method="GET", status="400") == 1
    assert delta("shop_logins_total", outcome="success") == 1
    assert delta("shop_logins_total", outcome="rejected") == 1
    assert delta("shop_http_request_duration_seconds_count", route="/api/info") == 1
    assert "shop_transaction_retries_total" in after
    assert "shop_db_pool_connections_in_use" in after


async def test_uncommon_methods_are_counted_under_one_label(client: ShopClient) -> None:
    before = await (await client.http.get("/metrics")).text()
    for method in ("PROPFIND", "MKCOL"):
        await client.http.request(method, "/api/info")

    after = await (await client.http.get("/metrics")).text()

    labels = {"method": "other", "route": "unmatched", "status": "405"}
    counted = sample(after, "shop_http_requests_total", **labels) - sample(
        before, "shop_http_requests_total", **labels
    )
    assert counted == 2
    assert "PROPFIND" not in after
    assert "MKCOL" not in after


async def test_pool_gauge_returns_to_where_it_was_when_requests_are_done(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    """The gauge is process-wide (every app a test ever built counts into it), so only its
    change says anything about these requests."""
    employee = await make_employee()
    in_use = "shop_db_pool_connections_in_use"
    before = sample(await (await client.http.get("/metrics")).text(), in_use)

    await asyncio.gather(*(client.info(employee.token) for _ in range(8)))

    assert sample(await (await client.http.get("/metrics")).text(), in_use) == before
