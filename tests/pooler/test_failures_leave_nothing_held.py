"""Through PgBouncer in transaction mode: a write procedure that fails midway leaves nothing held.

Each fault hits transfer_coins after it took its locks (an injected trigger, see conftest).
Afterwards no session of the database holds or waits for an advisory lock or the write gate,
and the next transfer between the same employees is applied.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from shop.auth.tokens import Claims
from shop.config import Settings
from shop.errors import OutcomeUnknownError, TransactionConflictError
from shop.repositories import transfers
from tests.helpers import ShopClient
from tests.locks import write_locks_held_elsewhere
from tests.pooler.conftest import SERIALIZATION_FAILURE, SLOW

pytestmark = pytest.mark.usefixtures("injected_faults")

TWO_EMPLOYEES = (
    "INSERT INTO users (username, password_hash, balance)"
    " VALUES ('ann', 'x', 100), ('ben', 'x', 100)"
)
SLOW_CALLS_RUNNING = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND state = 'active' AND query LIKE 'CALL transfer%'"
    " AND wait_event = 'PgSleep'"
)


async def poll(check: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    """Wait for server-side state only visible by asking (pg_locks, pg_stat_activity)."""
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - no event exists for these states
            await asyncio.sleep(0.05)


async def nothing_held(db: asyncpg.Connection) -> None:
    """Wait until the failed transaction's backend has finished rolling back (bounded)."""

    async def released() -> bool:
        return await write_locks_held_elsewhere(db) == 0

    await poll(released)


async def slow_call_running(db: asyncpg.Connection) -> None:
    async def running() -> bool:
        return await db.fetchval(SLOW_CALLS_RUNNING) == 1

    await poll(running)


async def pair(client: ShopClient) -> tuple[str, str]:
    return await client.auth("payer", "pw"), await client.auth("payee", "pw")


async def test_serialization_failures_on_every_attempt_leave_nothing_held(
    pooled_client: ShopClient, db: asyncpg.Connection
) -> None:
    payer, _ = await pair(pooled_client)

    body = await pooled_client.send_coin(payer, "payee", SERIALIZATION_FAILURE, expected_status=500)

    assert body is not None
    assert body["errors"] == TransactionConflictError().message
    assert await write_locks_held_elsewhere(db) == 0
    await pooled_client.send_coin(payer, "payee", 5)
    assert await db.fetchval("SELECT balance FROM users WHERE username = 'payee'") == 1005


async def test_a_statement_cut_by_the_timeout_leaves_nothing_held(
    pooled_client: ShopClient, db: asyncpg.Connection
) -> None:
    payer, _ = await pair(pooled_client)

    body = await pooled_client.send_coin(payer, "payee", SLOW, expected_status=500)

    assert body is not None
    assert body["errors"] == OutcomeUnknownError().message
    await nothing_held(db)  # the cancel travels through PgBouncer; the server then rolls back
    assert await db.fetchval("SELECT count(*) FROM transfers") == 0
    await pooled_client.send_coin(payer, "payee", 5)
    assert await db.fetchval("SELECT count(*) FROM transfers") == 1


async def test_a_cancelled_caller_leaves_nothing_held(
    pooled_pool: asyncpg.Pool, db: asyncpg.Connection
) -> None:
    await db.execute(TWO_EMPLOYEES)
    ann = Claims(1, "ann")
    async with pooled_pool.acquire() as conn:
        call = asyncio.create_task(
            transfers.transfer(conn, sender=ann, receiver_name="ben", amount=SLOW)
        )
        await slow_call_running(db)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    await nothing_held(db)
    async with pooled_pool.acquire() as conn:
        outcome = await transfers.transfer(conn, sender=ann, receiver_name="ben", amount=5)
    assert outcome.applied
    assert await db.fetchval("SELECT balance FROM users WHERE id = 2") == 105


async def test_a_killed_client_leaves_nothing_held(
    pooled_pool: asyncpg.Pool, pooled_settings: Settings, db: asyncpg.Connection
) -> None:
    await db.execute(TWO_EMPLOYEES)
    url = pooled_settings.database_url
    script = (
        "import asyncio, asyncpg\n"
        "async def main():\n"
        f"    conn = await asyncpg.connect({url!r}, statement_cache_size=0)\n"
        f"    await conn.fetchrow('CALL transfer_coins(1, $1, $2, {SLOW})', 'ann', 'ben')\n"
        "asyncio.run(main())\n"
    )
    client = await asyncio.create_subprocess_exec(sys.executable, "-c", script)
    try:
        await slow_call_running(db)
        assert await write_locks_held_elsewhere(db) > 0  # it holds its locks while it sleeps
    finally:
        client.kill()
        await client.wait()

    await nothing_held(db)
    assert await db.fetchval("SELECT count(*) FROM transfers") == 0
    async with pooled_pool.acquire() as conn:
        outcome = await transfers.transfer(
            conn, sender=Claims(1, "ann"), receiver_name="ben", amount=5
        )
    assert outcome.applied
