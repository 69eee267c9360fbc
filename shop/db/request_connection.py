"""RequestConnection: the one pooled connection a request uses, taken on first use."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from shop.db.failures import UNAVAILABLE
from shop.errors import ServiceUnavailableError
from shop.observability import metrics

log = logging.getLogger(__name__)


class RequestConnection:
    """One pooled connection per request: acquired on first use, released after the handler.

    A request refused before it needs the database (bad input, unknown item) never takes one.
    """

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
                # Nothing was sent yet, so nothing was written: the error may say so.
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
