"""`shop serve` run as a user would run it: workers, restarts, the embedded PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import asyncpg

from tests.helpers import Server, login, run_shop, sample


async def login_at(url: str, username: str) -> str:
    async with aiohttp.ClientSession() as http:
        return await login(http, username, url=url)


async def coins(url: str, token: str) -> int:
    # A new connection each time, so requests spread over the worker processes.
    async with (
        aiohttp.ClientSession() as session,
        session.get(url + "/api/info", headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        assert response.status == 200, await response.text()
        return (await response.json())["coins"]


async def scrape(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(url + "/metrics") as response:
        assert response.status == 200
        return await response.text()


async def test_workers_and_restarts_share_one_default_secret(
    db: asyncpg.Connection, database_url: str
) -> None:
    env = {"DATABASE_URL": database_url, "WORKERS": "2", "BCRYPT_ROUNDS": "4", "JWT_SECRET": ""}
    first = Server(env)
    try:
        await first.wait_ready()
        token = await login_at(first.url, "restart-proof")
        assert [await coins(first.url, token) for _ in range(10)] == [1000] * 10
        # Whichever worker answers the scrape reports the requests of both: its own at once,
        # the other's once published (metrics.PUBLISH_SECONDS). The deadline is a hang guard.
        counted = []
        for _ in range(100):
            counted.append(
                sample(await scrape(first.url), "shop_http_requests_total", route="/api/info")
            )
            if counted[-1] >= 10:
                break
            await asyncio.sleep(0.1)
        assert counted[-1] == 10, counted
    finally:
        code, output = first.stop()
    assert code == 0, output

    second = Server(env)
    try:
        await second.wait_ready()
        assert await coins(second.url, token) == 1000
    finally:
        code, output = second.stop()
    assert code == 0, output
    assert await db.fetchval("SELECT count(*) FROM app_secrets") == 1


async def test_serve_without_database_url_runs_an_embedded_postgres_that_audit_shares(
    tmp_path: Path,
) -> None:
    embedded = {"DATABASE_URL": "", "EMBEDDED_PGDATA": str(tmp_path / "pgdata")}
    server = Server({**embedded, "BCRYPT_ROUNDS": "4"})
    try:
        await server.wait_ready(seconds=120)
        token = await login_at(server.url, "embedded")
        assert await coins(server.url, token) == 1000
        migrated = await run_shop("migrate", env=embedded)
        audited = await run_shop("audit", env=embedded)
        assert await coins(server.url, token) == 1000  # the server's database is still up
    finally:
        code, output = server.stop()
    assert code == 0, output
    assert str(tmp_path / "pgdata") in output
    assert migrated.returncode == 0, migrated.stderr
    assert audited.returncode == 0, audited.stderr
    assert "employees 1, coins held 1000" in audited.stdout
