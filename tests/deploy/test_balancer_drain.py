"""Replicas behind nginx, configured from deploy/nginx as in docker-compose.scale.yml.

A replica stopped with SIGTERM (what `docker compose stop` and a rolling update send) must
drain without one failed request at the balancer, and the ledger must show exactly the
acknowledged requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import asyncpg
import pytest

from shop.config import Settings
from tests.deploy.balancer import Balancer, find_nginx
from tests.faults.test_process_faults import mixed_streams, names, server_env
from tests.faults.traffic import Outcome, Traffic, coins_lost, reconcile
from tests.helpers import Server, bearer, login_all

figures = logging.getLogger("tests.deploy.figures")

REPLICAS = 3
LINGER_SECONDS = "2"  # below fail_timeout in deploy/nginx/shop.conf.template


class Counted:
    """A client session that counts the statuses of the answers passing through it."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.statuses: Counter[int] = Counter()

    def get(self, path: str, **kwargs: Any) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._counted(self.http.get(path, **kwargs))

    def post(self, path: str, **kwargs: Any) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._counted(self.http.post(path, **kwargs))

    @contextlib.asynccontextmanager
    async def _counted(self, request: Any) -> AsyncIterator[aiohttp.ClientResponse]:
        async with request as response:
            self.statuses[response.status] += 1
            yield response


@pytest.fixture(scope="module")
def nginx() -> str:
    found = find_nginx()
    if found is None:
        pytest.skip("nginx is not installed (run_tests.sh installs Debian's nginx under CI=true)")
    return found


@pytest.fixture
async def replicas(app_settings: Settings) -> AsyncIterator[list[Server]]:
    """Single-worker `shop serve` processes on free ports, as the compose replicas run."""
    env = server_env(
        app_settings, WORKERS="1", LOG_LEVEL="INFO", SHUTDOWN_LINGER_SECONDS=LINGER_SECONDS
    )
    servers = [Server(env) for _ in range(REPLICAS)]
    try:
        await asyncio.gather(*(server.wait_ready() for server in servers))
        yield servers
    finally:
        for server in servers:
            server.ensure_dead()


@pytest.fixture
def balancer(nginx: str, replicas: list[Server]) -> Iterator[Balancer]:
    balancer = Balancer(nginx, [f"127.0.0.1:{server.port}" for server in replicas])
    try:
        balancer.wait_listening()
        yield balancer
    finally:
        balancer.stop()


@pytest.fixture
async def http(balancer: Balancer) -> AsyncIterator[aiohttp.ClientSession]:
    """Keep-alive connections to nginx, as browsers and clients hold them."""
    async with aiohttp.ClientSession(base_url=balancer.url) as session:
        yield session


async def read_info(http: aiohttp.ClientSession, token: str, failures: list[str]) -> None:
    """GET /api/info in a loop until cancelled; every answer but 200 is recorded."""
    while True:
        try:
            async with http.get("/api/info", headers=bearer(token)) as response:
                await response.read()
                if response.status != 200:
                    failures.append(f"/api/info: {response.status}")
        except aiohttp.ClientError as exc:
            failures.append(f"/api/info: {exc!r}")
        await asyncio.sleep(0.005)


async def test_replica_stopped_with_sigterm_drains_without_a_failed_request(
    balancer: Balancer,
    replicas: list[Server],
    http: aiohttp.ClientSession,
    db: asyncpg.Connection,
) -> None:
    tokens = await login_all(http, names(6, 2))
    counted = Counted(http)
    traffic = Traffic(counted, mixed_streams(tokens, 6, 2))
    info_failures: list[str] = []
    async with AsyncExitStack() as stack:
        traffic.start()
        stack.push_async_callback(traffic.stop)
        readers = [
            asyncio.create_task(read_info(http, tokens[f"b{i}"], info_failures)) for i in (0, 1)
        ]
        for reader in readers:
            stack.callback(reader.cancel)

        await traffic.until(lambda t: t.total(Outcome.APPLIED) >= 150)
        before = balancer.upstream_counts()
        stopped = replicas[0]
        signalled = time.monotonic()
        stopped.terminate()
        code = await stopped.wait_exit()
        exited = time.monotonic()
        await traffic.until(lambda t: t.total(Outcome.APPLIED, since=exited) >= 150)
        during = traffic.total(Outcome.APPLIED, since=signalled) - traffic.total(
            Outcome.APPLIED, since=exited
        )

    result = await reconcile(db, traffic, unsure=frozenset())
    outcomes = {key: dict(counts) for key, counts in traffic.counts.items()}
    figures.info(
        "SIGTERM to 1 of %d replicas behind nginx: exit %d after %.2f s; %d applied before, "
        "%d while draining, %d after; answers %s; requests per replica before the signal %s",
        REPLICAS,
        code,
        exited - signalled,
        traffic.total(Outcome.APPLIED) - traffic.total(Outcome.APPLIED, since=signalled),
        during,
        traffic.total(Outcome.APPLIED, since=exited),
        dict(counted.statuses),
        dict(before),
    )
    assert code == 0, stopped.output()
    # Not vacuous: the stopped replica was taking its share when the signal came.
    assert all(before[f"127.0.0.1:{server.port}"] > 0 for server in replicas), before
    assert traffic.anomalies == [], balancer.errors()
    assert info_failures == []
    # Every answer was a success or a refusal of the request itself (funds run out as the
    # streams go on); no 5xx, no dropped connection.
    assert set(counted.statuses) <= {200, 400}, counted.statuses
    assert traffic.total(Outcome.NO_RESPONSE) == traffic.total(Outcome.UNKNOWN) == 0, outcomes
    assert result.mismatches == []
    assert await coins_lost(db) == 0


async def test_balancer_passes_the_request_id_through_and_makes_one_when_absent(
    balancer: Balancer, replicas: list[Server], http: aiohttp.ClientSession
) -> None:
    async with http.get("/api/info", headers={"X-Request-Id": "client-chosen.42"}) as response:
        assert response.status == 401
        assert response.headers.getall("X-Request-Id") == ["client-chosen.42"]
    async with http.get("/api/info", headers={"X-Request-Id": "not ok!"}) as response:
        made = response.headers.getall("X-Request-Id")
    async with http.get("/api/info") as response:
        made += response.headers.getall("X-Request-Id")
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in made), made
    assert made[0] != made[1]
    async with asyncio.timeout(10):  # nginx logs a request just after answering it
        while f"request_id={made[1]}" not in balancer.access_log.read_text():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    logged = "".join(server.output() for server in replicas)  # the app saw the same ids
    assert all(request_id in logged for request_id in ["client-chosen.42", *made]), logged[-2000:]
