"""Login attempts per (username, client address) and per username: the throttle's state.

The rules live in the two functions of migrations/0009_login_attempts.sql, so one round
trip reserves an attempt atomically across workers, on the database clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from shop.db.connections import Connection

RESERVE = "SELECT retry_after, name_charged FROM login_reserve($1, $2, $3, $4, $5, $6, $7, $8)"
SETTLE = "SELECT login_settle($1, $2, $3, $4, $5)"


@dataclass(frozen=True, slots=True)
class Reserved:
    retry_after: int
    """0: the attempt may verify a password; otherwise seconds until it may try again."""
    name_charged: bool
    """The name-wide count was charged too, and must be refunded with the address's."""


async def reserve(
    conn: Connection,
    username: str,
    client: str,
    *,
    max_failures: int,
    quiet_seconds: float,
    backoff_base: float,
    backoff_max: float,
    name_max_failures: int,
    name_window_seconds: float,
) -> Reserved:
    row = await conn.fetchrow(
        RESERVE,
        username,
        client,
        max_failures,
        quiet_seconds,
        backoff_base,
        backoff_max,
        name_max_failures,
        name_window_seconds,
    )
    if row is None:  # pragma: no cover - login_reserve returns one row, always
        raise RuntimeError("login_reserve returned no row")
    return Reserved(row["retry_after"], row["name_charged"])


async def settle(
    conn: Connection,
    username: str,
    client: str,
    *,
    success: bool,
    name_charged: bool,
    max_failures: int,
) -> None:
    """Refund a reserved attempt: it logged in (`success`) or never reached bcrypt."""
    outcome = "success" if success else "cancelled"
    await conn.execute(SETTLE, username, client, outcome, name_charged, max_failures)


# Rows that say nothing login_reserve would not assume of a missing row: no success to
# remember, no block in force, and failures it would forget (a client row quiet for `quiet`
# seconds; a name row whose window has passed). Locked rows are skipped: an attempt is using
# them. One short statement per batch.
DELETE_FORGOTTEN = """
DELETE FROM login_attempts a
USING (SELECT username, client FROM login_attempts
       WHERE last_success IS NULL
         AND (blocked_until IS NULL OR blocked_until <= now())
         AND CASE WHEN client = '' THEN window_start + make_interval(secs => $2)
                  ELSE last_attempt + make_interval(secs => $1) END <= now()
       LIMIT $3
       FOR UPDATE SKIP LOCKED) old
WHERE a.username = old.username AND a.client = old.client
"""


async def delete_forgotten(
    conn: Connection, *, quiet_seconds: float, name_window_seconds: float, limit: int
) -> int:
    """Delete up to `limit` rows that no longer change any decision; how many went."""
    status = await conn.execute(DELETE_FORGOTTEN, quiet_seconds, name_window_seconds, limit)
    return int(status.rsplit(" ", 1)[1])
