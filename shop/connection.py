"""The request-scoped database connection and the errors that mean "database unavailable"."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from shop import metrics
from shop.errors import ServiceUnavailableError

log = logging.getLogger(__name__)

UNAVAILABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.QueryCanceledError,
    asyncpg.AdminShutdownError,
)
"""Errors that mean the database is unreachable, restarting or too slow; never a client's fault."""


class RequestConnection:
    """One pooled connection per request: acquired on first use, released after the handler."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._conn: asyncpg.Connection | None = None

    async def get(self) -> asyncpg.Connection:
        if self._conn is None:
            try:
                # asyncio.timeout, not acquire(timeout=): that one wraps the wait in a task
                # of its own, on every request.
                async with asyncio.timeout(self._timeout):
                    self._conn = await self._pool.acquire()
            except UNAVAILABLE as exc:
                log.warning("cannot acquire a database connection: %r", exc)
                raise ServiceUnavailableError from None
            metrics.POOL_IN_USE.inc()
        return self._conn

    async def release(self) -> None:
        """Give the connection back; a broken one is dropped by the pool, never reported.

        The response is already decided when this runs: a failed reset must not turn a
        committed operation into an error.
        """
        if self._conn is not None:
            conn, self._conn = self._conn, None
            metrics.POOL_IN_USE.dec()
            try:
                await self._pool.release(conn, timeout=self._timeout)
            except UNAVAILABLE as exc:
                log.warning("dropped a broken database connection: %r", exc)
