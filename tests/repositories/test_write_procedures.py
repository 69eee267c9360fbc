"""The write procedures, called directly: waiting, nothing held after a failure, outcomes."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shop.auth.tokens import Claims
from shop.repositories import purchases, transfers
from tests.locks import hold_accounts, write_locks_held_elsewhere

ADVISORY_LOCKS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
)


WAITING_FOR_THE_GATE = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks"
    " WHERE relation = 'write_gate'::regclass AND NOT granted AND pid = $1)"
)
HANG_GUARD_SECONDS = 30
"""Only a hang guard: each wait ends on the condition it is waiting for."""


async def until_waiting_for_the_gate(
    observer: asyncpg.Connection, pid: int, task: asyncio.Task[object]
) -> None:
    """Return once backend `pid` waits for the write gate (visible only in pg_locks), or
    once `task` has finished (then it did not wait)."""
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        while not task.done():
            if await observer.fetchval(WAITING_FOR_THE_GATE, pid):
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
async def test_a_writer_waits_for_a_held_account_then_applies_on_the_committed_balance(
    db: asyncpg.Connection, database_url: str
) -> None:
    """The hot-colleague case: the wait comes before the SERIALIZABLE snapshot, so the
    waiting transfer sees the other writer's commit instead of failing with 40001."""
    other = await asyncpg.connect(database_url)
    try:
        held = await hold_accounts(other, 2)
        await other.execute("UPDATE users SET balance = balance + 100 WHERE id = 2")
        pending = asyncio.create_task(
            transfers.transfer(db, sender=Claims(1, "ann"), receiver_name="ben", amount=7)
        )
        await until_waiting_for_the_gate(other, db.get_server_pid(), pending)
        assert not pending.done()
        await held.commit()
        outcome = await asyncio.wait_for(pending, HANG_GUARD_SECONDS)
    finally:
        await other.close()

    assert outcome.applied
    assert await db.fetchval("SELECT balance FROM users WHERE id = 2") == 1107
    assert await write_locks_held_elsewhere(db) == 0


@pytest.mark.usefixtures("two_employees")
async def test_a_buyer_waits_for_a_held_account_then_applies(
    db: asyncpg.Connection, database_url: str
) -> None:
    other = await asyncpg.connect(database_url)
    try:
        held = await hold_accounts(other, 1)
        await other.execute("UPDATE users SET balance = balance - 1 WHERE id = 1")
        pending = asyncio.create_task(
            purchases.purchase(db, buyer=Claims(1, "ann"), item="pen", price=10)
        )
        await until_waiting_for_the_gate(other, db.get_server_pid(), pending)
        await held.commit()
        outcome = await asyncio.wait_for(pending, HANG_GUARD_SECONDS)
    finally:
        await other.close()

    assert (outcome.applied, outcome.balance) == (True, 999)
    assert await db.fetchval("SELECT balance FROM users WHERE id = 1") == 989


@pytest.mark.usefixtures("two_employees")
async def test_writers_of_other_accounts_pass_a_held_account(
    db: asyncpg.Connection, database_url: str
) -> None:
    await db.execute("INSERT INTO users (username, password_hash, balance) VALUES ('cy', 'x', 50)")
    other = await asyncpg.connect(database_url)
    try:
        held = await hold_accounts(other, 1)
        outcome = await asyncio.wait_for(
            transfers.transfer(db, sender=Claims(2, "ben"), receiver_name="cy", amount=5), 10
        )
        await held.rollback()
    finally:
        await other.close()

    assert outcome.applied


FAIL_UNLESS_GATED = """
CREATE FUNCTION fail_unless_gated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_locks WHERE pid = pg_backend_pid()
                   AND relation = 'write_gate'::regclass AND mode = 'ExclusiveLock') THEN
        RAISE EXCEPTION 'stale snapshot' USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER fail_unless_gated BEFORE INSERT ON transfers
    FOR EACH ROW EXECUTE FUNCTION fail_unless_gated();
"""
"""A 40001 on the uncontended path only, as when its snapshot predates the last holder's commit."""


@pytest.mark.usefixtures("two_employees")
async def test_a_serialization_failure_on_the_uncontended_path_takes_the_gate_instead(
    db: asyncpg.Connection,
) -> None:
    await db.execute(FAIL_UNLESS_GATED)
    try:
        outcome = await transfers.transfer(
            db, sender=Claims(1, "ann"), receiver_name="ben", amount=7
        )
    finally:
        await db.execute("DROP TRIGGER fail_unless_gated ON transfers")
        await db.execute("DROP FUNCTION fail_unless_gated()")

    assert outcome.applied
    assert await db.fetchval("SELECT count(*) FROM transfers") == 1
    assert await db.fetchval(ADVISORY_LOCKS) == 0
