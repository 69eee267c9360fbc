"""Liveness and readiness probes."""

from __future__ import annotations

from tests.helpers import ShopClient


async def test_health_endpoints_answer_without_a_token(client: ShopClient) -> None:
    alive = await client.http.get("/healthz")
    ready = await client.http.get("/readyz")

    assert (alive.status, await alive.json()) == (200, {"status": "ok"})
    assert (ready.status, await ready.json()) == (200, {"status": "ready"})
