"""`shop worker`: applies grants to everyone batch by batch, and removes what has expired.

One process, one connection. Each batch commits on its own (services/grants.apply_batch), so
the shop's writers wait at most one batch for an account, and a SIGKILL loses at most the
batch in flight, which the next run redoes exactly once. SIGTERM or SIGINT: finish the batch
in flight, then exit 0. Several workers may run: each grant is walked by one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

import asyncpg

from shop.auth.throttle import ThrottlePolicy
from shop.config import Settings
from shop.db.connections import Connection
from shop.db.failures import UNAVAILABLE
from shop.db.pool import wait_for_database
from shop.db.retry import RETRYABLE
from shop.services import grants, housekeeping

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0


def run(settings: Settings, dsn: str) -> int:
    return asyncio.run(_run(settings, dsn))


async def _run(settings: Settings, dsn: str) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await wait_for_database(dsn, settings.db_connect_attempts)
    log.info("shop worker started (batches of %d)", settings.worker_batch_size)
    while not stop.is_set():
        try:
            conn = await asyncpg.connect(
                dsn, statement_cache_size=0 if settings.database_pooler == "transaction" else 100
            )
        except UNAVAILABLE as exc:
            log.warning("worker cannot reach the database: %r", exc)
            await _sleep_unless(stop, RECONNECT_SECONDS)
            continue
        try:
            await _work(conn, settings, stop)
        except UNAVAILABLE as exc:
            log.warning("worker lost its database connection: %r", exc)
            await _sleep_unless(stop, RECONNECT_SECONDS)
        finally:
            with contextlib.suppress(*UNAVAILABLE):
                await conn.close(timeout=5)
    log.info("shop worker stopped")
    return 0


async def _work(conn: Connection, settings: Settings, stop: asyncio.Event) -> None:
    policy = ThrottlePolicy.from_settings(settings)
    next_cleanup = 0.0
    while not stop.is_set():
        try:
            grant_id = await grants.apply_batch(conn, settings.worker_batch_size)
        except RETRYABLE as exc:  # a deadlock or conflict rolled the batch back: redo it
            log.info("grant batch rolled back, retrying: %r", exc)
            await _sleep_unless(stop, settings.worker_batch_pause_seconds)
            continue
        if grant_id is not None:
            await _sleep_unless(stop, settings.worker_batch_pause_seconds)
            continue
        if time.monotonic() >= next_cleanup:
            removed = await housekeeping.remove_expired(conn, policy)
            if removed.idempotency_keys or removed.login_attempts:
                log.info(
                    "removed %d expired idempotency keys and %d login-attempt rows",
                    removed.idempotency_keys,
                    removed.login_attempts,
                )
            next_cleanup = time.monotonic() + settings.worker_cleanup_seconds
        await _sleep_unless(stop, settings.worker_poll_seconds)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
