"""Employees: credentials, lookups and the per-account write locks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

# The lock-out state comes with the credentials, so the usual login costs no extra round trip.
FIND_CREDENTIALS = """
SELECT u.id, u.password_hash, f.failures IS NOT NULL AS has_failures,
       ceil(extract(epoch FROM f.locked_until - now()))::bigint AS locked_for
FROM users AS u
LEFT JOIN login_failures AS f ON f.username = u.username
WHERE u.username = $1
"""

CREATE = """
INSERT INTO users (username, password_hash, balance) VALUES ($1, $2, $3)
ON CONFLICT (username) DO NOTHING
RETURNING id
"""

FIND_ID = "SELECT id FROM users WHERE username = $1"

# Session-level advisory locks, taken in ascending id order before the transaction begins.
# Under SERIALIZABLE the snapshot is fixed by the first statement, so a row lock taken inside
# the transaction comes too late: two writers of one account would still fail with 40001.
# Waiting here instead means each transaction starts after the previous writer committed.
LOCK = """
SELECT pg_advisory_lock(id) FROM unnest($1::bigint[]) WITH ORDINALITY AS t(id, n) ORDER BY n
"""
UNLOCK = "SELECT pg_advisory_unlock(id) FROM unnest($1::bigint[]) AS t(id)"


@dataclass(frozen=True, slots=True)
class Credentials:
    user_id: int
    password_hash: str
    has_failures: bool = False
    """Wrong passwords are on record for this name (a successful login clears them)."""
    locked_for: int | None = None
    """Seconds this name stays locked out; None or not positive when it is not locked."""

    @property
    def locked(self) -> bool:
        return self.locked_for is not None and self.locked_for > 0


async def find_credentials(conn: asyncpg.Connection, username: str) -> Credentials | None:
    row = await conn.fetchrow(FIND_CREDENTIALS, username)
    if row is None:
        return None
    return Credentials(row["id"], row["password_hash"], row["has_failures"], row["locked_for"])


async def create(
    conn: asyncpg.Connection, username: str, password_hash: str, balance: int
) -> int | None:
    """Insert the employee; None when the username was taken meanwhile."""
    return await conn.fetchval(CREATE, username, password_hash, balance)


async def find_id(conn: asyncpg.Connection, username: str) -> int | None:
    return await conn.fetchval(FIND_ID, username)


@contextlib.asynccontextmanager
async def locked(conn: asyncpg.Connection, *user_ids: int) -> AsyncIterator[None]:
    """Hold the write locks of these accounts; ids sorted so no two holders can deadlock."""
    ids = sorted(set(user_ids))
    await conn.execute(LOCK, ids)
    try:
        yield
    finally:
        await conn.execute(UNLOCK, ids)
