"""Employees: credentials, registration, and the account locks of the write procedures."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

log = logging.getLogger(__name__)

FIND_CREDENTIALS = "SELECT id, password_hash FROM users WHERE username = $1"

CREATE = """
INSERT INTO users (username, password_hash, balance) VALUES ($1, $2, $3)
ON CONFLICT (username) DO NOTHING
RETURNING id
"""

UNLOCK_ALL = "SELECT pg_advisory_unlock_all()"


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


@contextlib.asynccontextmanager
async def releasing_account_locks(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """Make sure a failed write procedure leaves no account locked behind it.

    The procedures take session-level locks and release them when they finish; one that fails
    midway (a serialization failure, a timeout, a lost connection) may still hold them, and
    the pool hands connections on as they are. Unlock, or failing that, drop the connection:
    the server releases a session's locks when it ends.
    """
    try:
        yield
    except BaseException:
        try:
            await conn.execute(UNLOCK_ALL)
        except BaseException as exc:
            log.warning("could not release account locks, closing the connection: %r", exc)
            conn.terminate()
        raise
