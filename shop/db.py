"""The connection pool, the request-scoped connection and the serializable-retry helper."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import asyncpg
from aiohttp import web

from shop import metrics
from shop.config import Settings
from shop.connection import UNAVAILABLE, RequestConnection
from shop.errors import TransactionConflictError
from shop.keys import CONN, POOL, SETTINGS

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
"""SQLSTATE 40001 and 40P01: the transaction did nothing and may simply run again."""


async def keep_session(conn: asyncpg.Connection) -> None:
    """Hand a released connection back as it is, skipping asyncpg's default reset query.

    The default runs `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every
    release: one more round trip and four statements per request (about 15% of a worker's
    samples under load). The service sets no session state, opens no cursors and never
    listens; its only session state, the account locks of a write procedure, is released by
    `procedures.call`, which ends the session if it cannot. asyncpg still rolls back an open
    transaction before this hook runs.
    """


def create_pool(settings: Settings, dsn: str) -> asyncpg.Pool:
    """Build (not yet open) the pool; every connection gets the statement timeout."""
    return asyncpg.create_pool(
        dsn,
        reset=keep_session,
        min_size=min(settings.pool_min_size, settings.pool_max_size),
        max_size=settings.pool_max_size,
        timeout=settings.pool_acquire_timeout,
        command_timeout=settings.statement_timeout_ms / 1000 + 1,
        server_settings={
            "application_name": "shop",
            "statement_timeout": str(settings.statement_timeout_ms),
            # Lock waits give up first, before anything is written, so the outcome is known.
            "lock_timeout": str(settings.statement_timeout_ms // 2),
            "idle_in_transaction_session_timeout": str(settings.statement_timeout_ms * 2),
        },
    )


@contextlib.asynccontextmanager
async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the pool for the application's lifetime (an aiohttp cleanup context)."""
    settings = app[SETTINGS]
    if settings.database_url is None:
        raise RuntimeError("the DSN must be resolved before the app starts")
    pool = await create_pool(settings, settings.database_url)
    app[POOL] = pool
    try:
        yield
    finally:
        try:  # the requests are done by now; a close that still hangs is cut short
            await asyncio.wait_for(pool.close(), settings.pool_acquire_timeout)
        except TimeoutError:
            log.warning("the pool did not close in time; terminating its connections")
            pool.terminate()


@web.middleware
async def connection_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Give the request a lazily acquired connection and always give it back."""
    holder = RequestConnection(request.app[POOL], request.app[SETTINGS].pool_acquire_timeout)
    request[CONN] = holder
    try:
        return await handler(request)
    finally:
        await holder.release()


async def retry_serializable(
    work: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    base_delay: float = 0.002,
    max_delay: float = 0.2,
) -> T:
    """Run `work`, a SERIALIZABLE transaction, again after a 40001/40P01, up to `attempts`.

    `work` must be a whole transaction, COMMIT included (a serialization failure may surface
    at commit), with no effects outside the database: here, one CALL of a write procedure.
    Other errors, domain errors included, propagate at once. The backoff is full-jitter
    exponential, so colliding transactions spread out instead of colliding again.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except RETRYABLE as exc:
            if attempt == attempts:
                log.warning("giving up after %d serialization failures: %s", attempts, exc)
                metrics.TX_CONFLICTS.inc()
                raise TransactionConflictError from None
            metrics.TX_RETRIES.inc()
            await asyncio.sleep(random.uniform(0, min(max_delay, base_delay * 2**attempt)))  # noqa: S311
    raise AssertionError("unreachable")


async def wait_for_database(dsn: str, attempts: int, *, first_delay: float = 0.25) -> None:
    """Connect until the database answers, with capped exponential backoff between tries."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
        except (*UNAVAILABLE, asyncpg.InvalidCatalogNameError) as exc:
            if attempt == attempts:
                raise
            log.info("database not ready (%s), retry %d/%d in %.1fs", exc, attempt, attempts, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        else:
            await conn.close()
            return
