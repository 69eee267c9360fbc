"""The connection pool: how it is built, opened for the app's lifetime, and waited for."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import asyncpg

from shop.config import Settings
from shop.db.connections import Connection
from shop.db.failures import UNAVAILABLE

log = logging.getLogger(__name__)


async def keep_session(conn: Connection) -> None:
    """Hand a released connection back as it is, skipping asyncpg's default reset query.

    The default runs `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every
    release: one more round trip and four statements per request, and behind a transaction
    pooler a `RESET ALL` on whichever server connection takes it, wiping the limits the pooler
    set there for the next client. The service leaves nothing on a session to reset: it opens
    no cursors, never listens, and its locks are all transaction-scoped (docs/reliability.md,
    "The write path"). asyncpg still rolls back an open transaction before this hook runs.
    """


Init = Callable[[asyncpg.Connection], Coroutine[Any, Any, None]]
"""What runs on every new connection (the warm-up); asyncpg awaits it."""


def create_pool(
    settings: Settings,
    dsn: str,
    *,
    init: Init | None = None,
) -> asyncpg.Pool:
    """Build (not yet open) the pool, with the time limits the deployment allows.

    Straight to PostgreSQL, every connection gets the timeouts as session settings. Behind a
    transaction pooler a session setting would stay on a server connection other clients
    share (and PgBouncer refuses them as startup parameters), and a named prepared statement
    would be looked for on whichever server connection runs the next transaction; so there
    the client bounds each statement itself (asyncpg cancels it, and PgBouncer forwards the
    cancel), the server-side timeouts are the pooled role's own settings, and statements are
    unnamed: with its cache off, asyncpg parses a statement again in the same Sync as its
    Bind and Execute (docs/reliability.md, "Behind a transaction pooler").

    `init` runs on every new connection (shop/repositories/warm_up.py); only direct, since
    behind a pooler the connection it would warm is not the one the next request gets.
    """
    timeout_s = settings.statement_timeout_ms / 1000
    pooled = settings.database_pooler == "transaction"
    fixed = settings.pool_floor == settings.pool_max_size
    session: dict[str, str] = {"application_name": "shop"}  # a parameter PgBouncer tracks
    if not pooled:
        session |= {
            "statement_timeout": str(settings.statement_timeout_ms),
            # Lock waits give up first, before anything is written, so the outcome is known.
            "lock_timeout": str(settings.statement_timeout_ms // 2),
            "idle_in_transaction_session_timeout": str(settings.statement_timeout_ms * 2),
        }
    return asyncpg.create_pool(
        dsn,
        reset=keep_session,
        min_size=settings.pool_floor,
        max_size=settings.pool_max_size,
        # A fixed pool keeps its connections however long they idle (0: never closed), so
        # the first burst after a quiet spell does not open them all again at once.
        max_inactive_connection_lifetime=0 if fixed else 300.0,  # 300 s: asyncpg's default
        timeout=settings.pool_acquire_timeout,
        # Pooled, the client's limit is the statement limit; direct, the server's comes first.
        command_timeout=timeout_s if pooled else timeout_s + 1,
        # 0: no named prepared statements (asyncpg's default cache is 100).
        statement_cache_size=0 if pooled else 100,
        server_settings=session,
        init=None if pooled else init,
    )


@contextlib.asynccontextmanager
async def opened(
    settings: Settings,
    *,
    init: Init | None = None,
) -> AsyncIterator[asyncpg.Pool]:
    """The pool, open while the block runs; a close that hangs at the end is cut short."""
    if settings.database_url is None:
        raise RuntimeError("the DSN must be resolved before the app starts")
    pool = await create_pool(settings, settings.database_url, init=init)
    try:
        yield pool
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
