"""Calling the write procedures: every outcome told truthfully, no account left locked."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg

from shop.db.failures import UNAVAILABLE
from shop.errors import OutcomeUnknownError, ServiceUnavailableError, TransactionConflictError

log = logging.getLogger(__name__)

UNLOCK_ALL = "SELECT pg_advisory_unlock_all()"


@contextlib.asynccontextmanager
async def releasing_account_locks(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """Make sure a failed write procedure leaves no account locked behind it.

    The procedures take session-level locks and release them when they finish; one that fails
    midway (a serialization failure, a timeout, a lost connection) may still hold them, and
    the pool hands connections on as they are. Unlock, or failing that, end the session: the
    server releases a session's locks with it. The original error is what propagates.
    """
    try:
        yield
    except BaseException:
        try:
            await conn.execute(UNLOCK_ALL)
        except BaseException as exc:
            log.warning("could not release account locks (%r); closing the connection", exc)
            with contextlib.suppress(asyncpg.InterfaceError):  # already back in the pool
                conn.terminate()
        raise


async def call(conn: asyncpg.Connection, query: str, *args: object) -> asyncpg.Record:
    """CALL a write procedure and return its result row.

    A procedure commits inside the call, so a connection lost or a statement cancelled while
    it runs leaves the outcome unknown: that is OutcomeUnknownError, never "nothing was
    changed". Waiting too long for an account lock (lock_timeout) happens before anything is
    written, so it is a plain conflict; so is a connection found closed before sending.
    """
    if conn.is_closed():
        raise ServiceUnavailableError
    async with releasing_account_locks(conn):
        try:
            row = await conn.fetchrow(query, *args)
        except asyncpg.LockNotAvailableError:
            log.warning("gave up waiting for an account lock")
            raise TransactionConflictError from None
        except UNAVAILABLE as exc:
            log.error("connection lost during a write procedure, outcome unknown: %r", exc)
            raise OutcomeUnknownError from exc
    if row is None:  # pragma: no cover - a CALL with INOUT parameters always returns a row
        raise RuntimeError(f"{query} returned no row")
    return row
