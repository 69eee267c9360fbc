"""RequestConnection: the one pooled connection a request uses, taken on first use."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from shop.db.connections import Connection
from shop.db.failures import UNAVAILABLE
from shop.errors import ServiceUnavailableError
from shop.observability import metrics

log = logging.getLogger(__name__)


class IdleConnections:
    """Connections a worker keeps between its requests, so most requests skip the pool.

    Taking a connection from asyncpg's pool and giving it back costs a proxy, a future, a
    timeout and a shielded task per request. A connection that a request used without error
    and left outside any transaction is as the pool would hand it on (the pool's reset does
    nothing: see `db.pool.keep_session`), so it is kept here instead, up to `keep` of them;
    any other goes back through the pool, which rolls back, drops or closes it as needed.
    While a request waits for the pool, every connection goes back to the pool, so waiters
    are served in order; and `keep` leaves room in the pool for its direct users (logins).
    """

    def __init__(self, pool: asyncpg.Pool, timeout: float, keep: int) -> None:
        self._pool = pool
        self._timeout = timeout
        self._keep = keep
        self._closed = False
        self._waiting = 0
        self._idle: list[PoolConnectionProxy] = []

    async def take(self) -> PoolConnectionProxy:
        idle = self._idle
        while idle:
            conn = idle.pop()
            if _usable(conn):
                return conn
            await self._to_pool(conn)  # closed while idle: the pool replaces it
        self._waiting += 1
        try:
            # asyncio.timeout, not acquire(timeout=): that one wraps the wait in a task.
            async with asyncio.timeout(self._timeout):
                return await self._pool.acquire()
        finally:
            self._waiting -= 1

    async def give_back(self, conn: PoolConnectionProxy, *, clean: bool) -> None:
        if (
            clean
            and not self._waiting
            and not self._closed
            and len(self._idle) < self._keep
            and _usable(conn)
        ):
            self._idle.append(conn)
        else:
            await self._to_pool(conn)

    async def close(self) -> None:
        """Give every idle connection back, and any later one at once: the pool is closing."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await self._to_pool(conn)

    async def _to_pool(self, conn: PoolConnectionProxy) -> None:
        try:
            await self._pool.release(conn, timeout=self._timeout)
        except UNAVAILABLE as exc:
            log.warning("dropped a broken database connection: %r", exc)


def _usable(conn: Connection) -> bool:
    """Open, and outside any transaction; a connection that died is already back in the pool."""
    try:
        return not conn.is_closed() and not conn.is_in_transaction()
    except asyncpg.InterfaceError:  # released to the pool when it closed: nothing to keep
        return False


class RequestConnection:
    """One pooled connection per request: acquired on first use, released after the handler.

    A request refused before it needs the database (bad input, unknown item) never takes one.
    """

    __slots__ = ("_conn", "_connections")

    def __init__(self, connections: IdleConnections) -> None:
        self._connections = connections
        self._conn: PoolConnectionProxy | None = None

    async def get(self) -> Connection:
        if self._conn is None:
            try:
                self._conn = await self._connections.take()
            except UNAVAILABLE as exc:
                # Nothing was sent yet, so nothing was written: the error may say so.
                log.warning("cannot acquire a database connection: %r", exc)
                raise ServiceUnavailableError from None
            metrics.POOL_HELD.inc()
        return self._conn

    async def release(self, *, clean: bool = False) -> None:
        """Give the connection back; a broken one is dropped by the pool, never reported.

        `clean`: the request ended without an error, so the connection may be kept for the
        next one. The response is already decided when this runs: a failed reset must not
        turn a committed operation into an error.
        """
        if self._conn is not None:
            conn, self._conn = self._conn, None
            metrics.POOL_HELD.inc(-1)
            await self._connections.give_back(conn, clean=clean)
