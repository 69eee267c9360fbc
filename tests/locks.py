"""Stand in for a write in flight, as the write procedures take their locks (migration 0011).

A transfer or purchase holds the write gate in ROW EXCLUSIVE mode and its accounts' advisory
locks, both until its transaction ends; a writer that finds an account taken waits for the
gate in EXCLUSIVE mode. Tests that need a writer to wait hold the same locks here.
"""

from __future__ import annotations

import asyncpg
from asyncpg.transaction import Transaction

HOLD_GATE = "LOCK TABLE write_gate IN ROW EXCLUSIVE MODE"
HOLD_ACCOUNTS = "SELECT pg_advisory_xact_lock(a) FROM unnest($1::bigint[]) AS a ORDER BY a"
WAITING_FOR_THE_GATE = (
    "SELECT count(*) FROM pg_locks"
    " WHERE locktype = 'relation' AND relation = 'write_gate'::regclass AND NOT granted"
)
LOCKS_LEFT = (
    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
    " WHERE d.datname = current_database() AND l.pid <> pg_backend_pid()"
    " AND (l.locktype = 'advisory' OR l.relation = 'write_gate'::regclass)"
)


async def hold_accounts(conn: asyncpg.Connection, *account_ids: int) -> Transaction:
    """Hold the accounts until the returned transaction ends (roll it back to let writers on)."""
    held = conn.transaction()
    await held.start()
    await conn.execute(HOLD_GATE)
    await conn.execute(HOLD_ACCOUNTS, list(account_ids))
    return held


async def waiting_for_the_write_gate(conn: asyncpg.Connection) -> int:
    """How many writers wait for the gate (each blocked write waits there, nowhere else)."""
    return await conn.fetchval(WAITING_FOR_THE_GATE)


async def write_locks_held_elsewhere(conn: asyncpg.Connection) -> int:
    """Advisory and write-gate locks that other sessions of this database hold or wait for."""
    return await conn.fetchval(LOCKS_LEFT)
