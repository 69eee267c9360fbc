"""Re-running SERIALIZABLE transactions that PostgreSQL aborted to keep them serializable."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from shop.errors import TransactionConflictError
from shop.observability import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
"""SQLSTATE 40001 and 40P01: the transaction did nothing and may simply run again."""


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
