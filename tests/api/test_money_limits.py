"""Balances past 2^31 - 1: money columns are bigint, amounts per request stay int4-sized."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest

from shop.config import Settings
from tests.conftest import TEST_SECRET
from tests.helpers import Server, bearer, login

INT4_MAX = 2**31 - 1


@pytest.fixture
async def server(app_settings: Settings, empty_tables: None) -> AsyncIterator[Server]:
    """`shop serve` with two workers on the test database."""
    served = Server(
        {
            "DATABASE_URL": app_settings.database_url or "",
            "DATABASE_POOLER": app_settings.database_pooler,  # behind PgBouncer in tests/pooler
            "JWT_SECRET": TEST_SECRET,
            "WORKERS": "2",
            "BCRYPT_ROUNDS": "4",
        }
    )
    try:
        await served.wait_ready()
        yield served
    finally:
        served.stop()


async def test_a_credit_past_int4_is_applied_and_rendered_as_an_integer(
    server: Server, db: asyncpg.Connection
) -> None:
    async with aiohttp.ClientSession() as http:
        rich = await login(http, "rich", url=server.url)
        sender = await login(http, "sender", url=server.url)
        await db.execute("UPDATE users SET balance = $1 WHERE username = 'rich'", INT4_MAX - 10)

        async with http.post(
            server.url + "/api/sendCoin",
            json={"toUser": "rich", "amount": 100},
            headers=bearer(sender),
        ) as r:
            assert r.status == 200, await r.text()
        async with http.get(server.url + "/api/info", headers=bearer(rich)) as r:
            body = await r.json()

    assert body["coins"] == INT4_MAX + 90
    assert await db.fetchval("SELECT balance FROM users WHERE username = 'sender'") == 900


async def test_an_amount_past_int4_is_refused_and_changes_nothing(
    server: Server, db: asyncpg.Connection
) -> None:
    async with aiohttp.ClientSession() as http:
        await login(http, "receiver", url=server.url)
        sender = await login(http, "sender", url=server.url)
        await db.execute("UPDATE users SET balance = $1 WHERE username = 'sender'", 2**40)
        async with http.post(
            server.url + "/api/sendCoin",
            json={"toUser": "receiver", "amount": INT4_MAX + 1},
            headers=bearer(sender),
        ) as r:
            assert r.status == 400
            assert "amount" in (await r.json())["errors"]

    assert await db.fetchval("SELECT balance FROM users WHERE username = 'sender'") == 2**40
    assert await db.fetchval("SELECT count(*) FROM transfers") == 0
