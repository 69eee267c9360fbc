"""Employees: credentials, lookups and the per-account write locks."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

from shop.connection import UNAVAILABLE

log = logging.getLogger(__name__)

FIND_CREDENTIALS = "SELECT id, password_hash FROM users WHERE username = $1"

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


async def find_credentials(conn: asyncpg.Connection, username: str) -> Credentials | None:
    row = await conn.fetchrow(FIND_CREDENTIALS, username)
    return None if row is None else Credentials(row["id"], row["password_hash"])


async def create(
    conn: asyncpg.Connection, username: str, password_hash: str, balance: int
) -> int | None:
    """Insert the employee; None when the username was taken meanwhile."""
    return await conn.fetchval(CREATE, username, password_hash, balance)


async def find_id(conn: asyncpg.Connection, username: str) -> int | None:
    return await conn.fetchval(FIND_ID, username)


@contextlib.asynccontextmanager
async def locked(conn: asyncpg.Connection, *user_ids: int) -> AsyncIterator[None]:
    """Hold the write locks of these accounts; ids sorted so no two holders can deadlock.

    If the unlock fails because the connection broke or timed out, the session is ended
    instead: its locks go with it, and the error must not replace the real outcome (a
    transaction that committed, or the error that stopped it).
    """
    ids = sorted(set(user_ids))
    await conn.execute(LOCK, ids)
    try:
        yield
    finally:
        try:
            await conn.execute(UNLOCK, ids)
        except UNAVAILABLE as exc:
            log.warning("could not release account locks (%r); closing the connection", exc)
            with contextlib.suppress(asyncpg.InterfaceError):  # already gone back to the pool
                conn.terminate()
