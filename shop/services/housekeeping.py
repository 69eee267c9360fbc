"""What `shop worker` removes because it has expired: idempotency keys past their retention
and login-attempt rows that no longer change any decision. Small batches, each its own short
transaction, so a clean-up never holds many row locks at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from shop.auth.throttle import ThrottlePolicy
from shop.db.connections import Connection
from shop.idempotency import RETENTION
from shop.repositories import idempotency_keys, login_attempts

BATCH = 500


@dataclass(frozen=True, slots=True)
class Removed:
    idempotency_keys: int
    login_attempts: int


async def remove_expired(
    conn: Connection, policy: ThrottlePolicy, *, batch: int = BATCH
) -> Removed:
    """Delete, batch by batch, everything that has expired by now."""
    before = datetime.now(UTC) - RETENTION
    keys = await _in_batches(lambda: idempotency_keys.delete_expired(conn, before, batch), batch)
    attempts = await _in_batches(
        lambda: login_attempts.delete_forgotten(
            conn,
            quiet_seconds=policy.quiet_seconds,
            name_window_seconds=policy.name_window_seconds,
            limit=batch,
        ),
        batch,
    )
    return Removed(keys, attempts)


async def _in_batches(delete: Callable[[], Awaitable[int]], batch: int) -> int:
    """Run `delete` (at most `batch` rows a call) until a call finds fewer; the rows removed."""
    removed = 0
    while True:
        gone = await delete()
        removed += gone
        if gone < batch:
            return removed
