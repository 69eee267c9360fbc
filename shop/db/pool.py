"""The connection pool: how it is built, opened for the app's lifetime, and waited for."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from shop.config import Settings
from shop.db.failures import UNAVAILABLE
from shop.keys import POOL, SETTINGS

log = logging.getLogger(__name__)


async def keep_session(conn: asyncpg.Connection) -> None:
    """Hand a released connection back as it is, skipping asyncpg's default reset query.

    The default runs `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every
    release: one more round trip and four statements per request. The service sets no
    session state, opens no cursors and never listens; its only session state, the account
    locks of a write procedure, is released by `procedures.call`, which ends the session if
    it cannot. asyncpg still rolls back an open transaction before this hook runs.
    """


def create_pool(settings: Settings, dsn: str) -> asyncpg.Pool:
    """Build (not yet open) the pool; every connection gets the statement timeout."""
    return asyncpg.create_pool(
        dsn,
        reset=keep_session,
        min_size=settings.pool_min_size,
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
