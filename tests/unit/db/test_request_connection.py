"""Connections kept between requests: only clean ones, a bounded number, all given back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from shop.db.pool import keep_session
from shop.db.request_connection import IdleConnections, RequestConnection


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(
        database_url, min_size=0, max_size=4, reset=keep_session
    ) as pool:
        yield pool


async def backend_pid(holder: RequestConnection) -> int:
    return await (await holder.get()).fetchval("SELECT pg_backend_pid()")


async def test_a_connection_left_clean_serves_the_next_request(pool: asyncpg.Pool) -> None:
    idle = IdleConnections(pool, timeout=5, keep=2)
    first = RequestConnection(idle)
    pid = await backend_pid(first)
    await first.release(clean=True)

    second = RequestConnection(idle)

    assert await backend_pid(second) == pid
    await second.release(clean=True)
    await idle.close()


async def test_a_request_that_failed_gives_its_connection_back_to_the_pool(
    pool: asyncpg.Pool,
) -> None:
    idle = IdleConnections(pool, timeout=5, keep=2)
    holder = RequestConnection(idle)
    await holder.get()
    assert pool.get_idle_size() == 0

    await holder.release(clean=False)

    assert pool.get_idle_size() == 1
    await idle.close()


async def test_an_open_transaction_is_rolled_back_by_the_pool_not_kept(
    pool: asyncpg.Pool,
) -> None:
    idle = IdleConnections(pool, timeout=5, keep=2)
    holder = RequestConnection(idle)
    conn = await holder.get()
    await conn.execute("BEGIN")
    await conn.execute("CREATE TEMP TABLE left_behind (x int)")

    await holder.release(clean=True)

    assert pool.get_idle_size() == 1
    again = RequestConnection(idle)
    conn = await again.get()
    assert not conn.is_in_transaction()
    assert await conn.fetchval("SELECT to_regclass('pg_temp.left_behind')") is None
    await again.release(clean=True)
    await idle.close()


async def test_no_more_than_keep_are_held_and_close_gives_all_back(pool: asyncpg.Pool) -> None:
    idle = IdleConnections(pool, timeout=5, keep=2)
    holders = [RequestConnection(idle) for _ in range(4)]
    for holder in holders:
        await holder.get()
    for holder in holders:
        await holder.release(clean=True)

    assert pool.get_idle_size() == 2  # two went back to the pool, two are kept

    await idle.close()
    assert pool.get_idle_size() == 4

    late = RequestConnection(idle)  # a request still finishing after close
    await late.get()
    await late.release(clean=True)
    assert pool.get_idle_size() == 4


async def test_a_kept_connection_closed_meanwhile_is_replaced(pool: asyncpg.Pool) -> None:
    idle = IdleConnections(pool, timeout=5, keep=2)
    first = RequestConnection(idle)
    conn = await first.get()
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    await first.release(clean=True)
    conn.terminate()

    second = RequestConnection(idle)

    assert await backend_pid(second) != pid
    await second.release(clean=True)
    await idle.close()


async def test_a_request_waiting_for_the_pool_gets_the_next_connection_given_back(
    database_url: str,
) -> None:
    async with asyncpg.create_pool(
        database_url, min_size=0, max_size=2, reset=keep_session
    ) as small:
        idle = IdleConnections(small, timeout=30, keep=2)
        first, second, third = (RequestConnection(idle) for _ in range(3))
        await first.get()
        await second.get()
        waiting = asyncio.create_task(third.get())
        await asyncio.sleep(0)  # the third runs until it waits at the pool
        assert idle._waiting == 1

        await first.release(clean=True)

        await asyncio.wait_for(waiting, timeout=30)  # a hang guard, not a timing claim
        await second.release(clean=True)
        await third.release(clean=True)
        await idle.close()
