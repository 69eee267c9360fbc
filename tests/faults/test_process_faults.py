"""`shop serve` (two workers) gets SIGTERM or SIGKILL while requests are running."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import asyncpg
import pytest

from shop.config import Settings
from tests.conftest import TEST_SECRET
from tests.faults.traffic import (
    Outcome,
    Stream,
    Traffic,
    coins_lost,
    purchase_key,
    reconcile,
    transfer_key,
)
from tests.helpers import Server, bearer, login_all, run_shop
from tests.locks import hold_accounts, waiting_for_the_write_gate

figures = logging.getLogger("tests.faults.figures")

GRACE_SECONDS = 10.0


def server_env(app_settings: Settings, **overrides: str) -> dict[str, str]:
    assert app_settings.database_url is not None
    return {
        "DATABASE_URL": app_settings.database_url,
        "DATABASE_POOLER": app_settings.database_pooler,
        "JWT_SECRET": TEST_SECRET,
        "WORKERS": "2",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
        "SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
        **overrides,
    }


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A new TCP connection per request, so requests spread over both workers."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        yield session


def mixed_streams(tokens: dict[str, str], pairs: int, buyers: int) -> list[Stream]:
    streams = [
        Stream(transfer_key(f"s{i}", f"r{i}"), tokens[f"s{i}"], to_user=f"r{i}", amount=i + 1)
        for i in range(pairs)
    ]
    return streams + [Stream(purchase_key(f"b{i}"), tokens[f"b{i}"]) for i in range(buyers)]


def names(pairs: int, buyers: int) -> list[str]:
    return (
        [f"s{i}" for i in range(pairs)]
        + [f"r{i}" for i in range(pairs)]
        + [f"b{i}" for i in range(buyers)]
    )


@contextlib.asynccontextmanager
async def under_load(
    env: dict[str, str], http: aiohttp.ClientSession
) -> AsyncIterator[tuple[Server, dict[str, str], Traffic]]:
    """A two-worker server with 6 transfer pairs and 2 buyers in flight, 100 applied so far.

    On exit the traffic stops and no server process is left running.
    """
    server = Server(env)
    try:
        await server.wait_ready()
        tokens = await login_all(http, names(6, 2), url=server.url)
        traffic = Traffic(_Rooted(http, server.url), mixed_streams(tokens, 6, 2))
        traffic.start()
        try:
            await traffic.until(lambda t: t.total(Outcome.APPLIED) >= 100)
            yield server, tokens, traffic
        finally:
            await traffic.stop()
    finally:
        server.ensure_dead()


async def poll(check: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    """Wait for a state only visible by asking (the server's socket, PostgreSQL's lock table)."""
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - no event exists for these states
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("how", ["sigterm", "ctrl-c", "sigterm-twice"])
async def test_stop_signal_stops_accepting_then_finishes_accepted_requests_and_exits_zero(
    app_settings: Settings, db: asyncpg.Connection, http: aiohttp.ClientSession, how: str
) -> None:
    """SIGTERM to the supervisor (docker stop), SIGINT to every process (Ctrl-C), or SIGTERM
    again while draining: a second signal must not cut the drain short.
    """
    server = Server(server_env(app_settings, STATEMENT_TIMEOUT_MS="30000"))
    try:
        await server.wait_ready()
        tokens = await login_all(http, ["target", *(f"payer{i}" for i in range(8))], url=server.url)
        target_id = await db.fetchval("SELECT id FROM users WHERE username = 'target'")
        held = await hold_accounts(db, target_id)  # every transfer now waits

        async def send(payer: str) -> int:
            body = {"toUser": "target", "amount": 3}
            headers = bearer(tokens[payer])
            async with http.post(server.url + "/api/sendCoin", json=body, headers=headers) as r:
                return r.status

        async def all_waiting() -> bool:
            return await waiting_for_the_write_gate(db) == 8

        async def closed() -> bool:
            return not server.accepts_connections()

        in_flight = [asyncio.create_task(send(f"payer{i}")) for i in range(8)]
        await poll(all_waiting)

        signalled = time.monotonic()
        if how == "ctrl-c":
            server.interrupt()
        else:
            server.terminate()
        await poll(closed)
        if how == "sigterm-twice":  # an impatient operator, or a process manager's retry
            server.terminate()
        stopped_accepting = time.monotonic() - signalled
        await held.rollback()
        statuses = await asyncio.gather(*in_flight)
        code = await server.wait_exit()
        drained = time.monotonic() - signalled
    finally:
        server.ensure_dead()

    figures.info(
        "%s with 8 requests in flight: listener closed %.3f s after the signal, all "
        "answered and the process exited %.2f s after it",
        how,
        stopped_accepting,
        drained,
    )
    assert statuses == [200] * 8, server.output()
    assert code == 0, server.output()
    assert await db.fetchval("SELECT count(*) FROM transfers") == 8


async def test_sigterm_under_load_applies_exactly_the_acknowledged_requests(
    app_settings: Settings, db: asyncpg.Connection, http: aiohttp.ClientSession
) -> None:
    async with under_load(server_env(app_settings), http) as (server, _, traffic):
        signalled = time.monotonic()
        server.terminate()
        code = await server.wait_exit()
        exited = time.monotonic() - signalled

    result = await reconcile(db, traffic, unsure=frozenset())
    figures.info(
        "SIGTERM under load: exit %d after %.2f s; %d acknowledged, %d refused connections "
        "after the signal, %d applied without acknowledgement",
        code,
        exited,
        traffic.total(Outcome.APPLIED),
        traffic.total(Outcome.NO_RESPONSE),
        result.unknown_applied,
    )
    assert code == 0, server.output()
    assert traffic.anomalies == []
    assert result.mismatches == []


async def test_sigkill_under_load_loses_no_acknowledged_coin(
    app_settings: Settings, db: asyncpg.Connection, http: aiohttp.ClientSession, database_url: str
) -> None:
    env = server_env(app_settings)
    async with under_load(env, http) as (server, tokens, traffic):
        server.kill()
        killed_at = time.monotonic()
        await traffic.until(lambda t: t.total(Outcome.NO_RESPONSE, since=killed_at) >= 8)

    result = await reconcile(db, traffic, unsure=frozenset({Outcome.NO_RESPONSE}))
    after_kill = await run_shop("audit", env={"DATABASE_URL": database_url})

    restarted = Server(env, port=server.port)
    try:
        started = time.monotonic()
        await restarted.wait_ready()
        restart_seconds = time.monotonic() - started
        async with http.post(
            restarted.url + "/api/sendCoin",
            json={"toUser": "r0", "amount": 1},
            headers=bearer(tokens["s0"]),
        ) as response:
            assert response.status == 200, await response.text()
    finally:
        code, output = restarted.stop()
    after_restart = await run_shop("audit", env={"DATABASE_URL": database_url})
    lost = await coins_lost(db)

    figures.info(
        "SIGKILL under load: %d acknowledged, %d cut off without an answer (%d of those had "
        "committed); restart ready in %.2f s; coins lost %d",
        traffic.total(Outcome.APPLIED),
        result.unknown,
        result.unknown_applied,
        restart_seconds,
        lost,
    )
    assert traffic.anomalies == []
    assert result.mismatches == []
    assert after_kill.returncode == 0, after_kill.stdout
    assert after_restart.returncode == 0, after_restart.stdout
    assert lost == 0
    assert code == 0, output


class _Rooted:
    """Prefix relative paths with the server's URL, like TestClient does."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self._http = http
        self._url = url

    def post(self, path: str, **kwargs: object) -> object:
        return self._http.post(self._url + path, **kwargs)  # type: ignore[arg-type]

    def get(self, path: str, **kwargs: object) -> object:
        return self._http.get(self._url + path, **kwargs)  # type: ignore[arg-type]


async def test_answers_while_lingering_tell_the_client_the_connection_closes(
    app_settings: Settings,
) -> None:
    """With SHUTDOWN_LINGER_SECONDS, a request on a connection opened before SIGTERM is still
    answered, with `Connection: close`: a balancer that is not told would keep the connection
    and could write its next request (a POST it cannot resend) into it as the replica closes it.
    """
    server = Server(server_env(app_settings, WORKERS="1", SHUTDOWN_LINGER_SECONDS="3"))
    try:
        await server.wait_ready()
        async with aiohttp.ClientSession(base_url=server.url) as keep_alive:
            async with keep_alive.get("/api/items") as before:
                await before.read()
            assert before.headers.get("Connection") != "close"

            server.terminate()

            async def closed() -> bool:
                return not server.accepts_connections()

            await poll(closed)
            # Only the kept connection can carry this request: the listener is closed.
            async with keep_alive.get("/api/items") as during:
                await during.read()
        code = await server.wait_exit()
    finally:
        server.ensure_dead()

    assert during.status == 200
    assert during.headers.get("Connection") == "close"
    assert code == 0, server.output()


async def test_workers_drain_and_exit_when_the_supervisor_is_killed(
    app_settings: Settings, http: aiohttp.ClientSession
) -> None:
    server = Server(server_env(app_settings))
    try:
        await server.wait_ready()
        server.process.kill()  # SIGKILL to the supervisor alone: its workers are orphans
        killed_at = time.monotonic()
        server.process.wait(timeout=30)

        async def workers_gone() -> bool:
            return not server.group_alive()

        await poll(workers_gone)
        gone = time.monotonic() - killed_at
    finally:
        server.ensure_dead()

    figures.info("supervisor killed: its workers stopped %.2f s later", gone)
    assert not server.accepts_connections()
    assert "supervisor gone" in server.output()


async def test_requests_running_past_the_grace_period_are_cancelled_unapplied(
    app_settings: Settings, db: asyncpg.Connection, http: aiohttp.ClientSession
) -> None:
    grace = 1.0
    env = server_env(app_settings, SHUTDOWN_GRACE_SECONDS=str(grace), STATEMENT_TIMEOUT_MS="30000")
    server = Server(env)
    try:
        await server.wait_ready()
        tokens = await login_all(http, ["stuck", "payee"], url=server.url)
        payee_id = await db.fetchval("SELECT id FROM users WHERE username = 'payee'")
        held = await hold_accounts(db, payee_id)  # the request can never finish

        async def send() -> int | str:
            body = {"toUser": "payee", "amount": 4}
            url = server.url + "/api/sendCoin"
            try:
                async with http.post(url, json=body, headers=bearer(tokens["stuck"])) as r:
                    return r.status
            except aiohttp.ClientError as exc:
                return type(exc).__name__

        async def waiting() -> bool:
            return await waiting_for_the_write_gate(db) == 1

        request = asyncio.create_task(send())
        await poll(waiting)
        signalled = time.monotonic()
        server.terminate()
        code = await server.wait_exit()
        exited = time.monotonic() - signalled
        outcome = await request
        await held.rollback()
    finally:
        server.ensure_dead()

    figures.info(
        "request stuck past a %.1f s grace period: process exited %d after %.2f s, client got %s",
        grace,
        code,
        exited,
        outcome,
    )
    assert code == 0, server.output()
    assert exited >= grace  # it gave the request its grace period (load only adds)
    assert outcome == "ServerDisconnectedError"
    assert await db.fetchval("SELECT count(*) FROM transfers") == 0
