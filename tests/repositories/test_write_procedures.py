"""The write procedures, called directly: locking, failure clean-up, outcomes."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shop.auth.tokens import Claims
from shop.repositories import purchases, transfers

ADVISORY_LOCKS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
)


WAITING_FOR_ADVISORY_LOCK = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks"
    " WHERE locktype = 'advisory' AND NOT granted AND pid = $1)"
)
HANG_GUARD_SECONDS = 30
"""Only a hang guard: each wait ends on the condition it is waiting for."""


async def until_waiting_for_an_advisory_lock(
    observer: asyncpg.Connection, pid: int, task: asyncio.Task[object]
) -> None:
    """Return once backend `pid` waits for an advisory lock (visible only in pg_locks), or
    once `task` has finished (then it did not wait)."""
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        while not task.done():
            if await observer.fetchval(WAITING_FOR_ADVISORY_LOCK, pid):
                return
            await asyncio.sleep(0.02)


@pytest.fixture
async def two_employees(db: asyncpg.Connection) -> None:
    await db.execute(
        "INSERT INTO users (username, password_hash, balance)"
        " VALUES ('ann', 'x', 1000), ('ben', 'x', 1000)"
    )


@pytest.mark.usefixtures("two_employees")
async def test_transfer_reports_unknown_receiver_without_touching_anything(
    db: asyncpg.Connection,
) -> None:
    outcome = await transfers.transfer(
        db, sender=Claims(1, "ann"), receiver_name="nobody", amount=5
    )

    assert (outcome.receiver_found, outcome.applied) == (False, False)
    assert await db.fetchval("SELECT count(*) FROM transfers") == 0
    assert await db.fetchval(ADVISORY_LOCKS) == 0


@pytest.mark.usefixtures("two_employees")
async def test_transfer_with_a_stale_name_in_the_token_applies_nothing(
    db: asyncpg.Connection,
) -> None:
    outcome = await transfers.transfer(
        db, sender=Claims(1, "someone-else"), receiver_name="ben", amount=5
    )

    assert (outcome.balance, outcome.applied) == (None, False)
    assert await db.fetchval("SELECT sum(balance) FROM users") == 2000


@pytest.mark.usefixtures("two_employees")
async def test_a_procedure_failing_after_locking_leaves_no_lock_behind(
    db: asyncpg.Connection,
) -> None:
    # A negative price passes the debit but breaks the ledger's CHECK after the locks are taken.
    with pytest.raises(asyncpg.CheckViolationError):
        await purchases.purchase(db, buyer=Claims(1, "ann"), item="pen", price=-10)

    assert await db.fetchval(ADVISORY_LOCKS) == 0
    assert await db.fetchval("SELECT balance FROM users WHERE id = 1") == 1000
    assert (await purchases.purchase(db, buyer=Claims(1, "ann"), item="pen", price=10)).applied


@pytest.mark.usefixtures("two_employees")
async def test_a_writer_waits_for_the_account_lock_instead_of_failing(
    db: asyncpg.Connection, database_url: str
) -> None:
    holder = await asyncpg.connect(database_url)
    try:
        await holder.execute("SELECT pg_advisory_lock(2)")
        pending = asyncio.create_task(
            transfers.transfer(db, sender=Claims(1, "ann"), receiver_name="ben", amount=7)
        )
        await until_waiting_for_an_advisory_lock(holder, db.get_server_pid(), pending)
        assert not pending.done()
        await holder.execute("SELECT pg_advisory_unlock(2)")
        outcome = await asyncio.wait_for(pending, HANG_GUARD_SECONDS)
    finally:
        await holder.close()

    assert outcome.applied
    assert await db.fetchval("SELECT balance FROM users WHERE id = 2") == 1007
