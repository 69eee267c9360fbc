"""Wrong-password counters per username: the state behind the login lock-out.

Times come from the database clock, so every worker agrees on windows and lock-outs.
"""

from __future__ import annotations

import asyncpg

# One atomic upsert, so parallel wrong attempts all count. A failure after the window has
# passed, or after a lock-out has ended, starts a fresh count; the failure that reaches the
# limit sets the lock. $2 limit, $3 window and $4 lock-out, both in seconds.
RECORD_FAILURE = """
INSERT INTO login_failures AS f (username, failures, window_start, locked_until)
VALUES ($1, 1, now(), CASE WHEN $2 <= 1 THEN now() + make_interval(secs => $4) END)
ON CONFLICT (username) DO UPDATE SET
    failures = CASE
        WHEN f.window_start + make_interval(secs => $3) <= now() OR f.locked_until <= now()
        THEN 1 ELSE f.failures + 1 END,
    window_start = CASE
        WHEN f.window_start + make_interval(secs => $3) <= now() OR f.locked_until <= now()
        THEN now() ELSE f.window_start END,
    locked_until = CASE
        WHEN f.window_start + make_interval(secs => $3) <= now() OR f.locked_until <= now()
        THEN CASE WHEN $2 <= 1 THEN now() + make_interval(secs => $4) END
        WHEN f.failures + 1 >= $2 THEN now() + make_interval(secs => $4)
        ELSE f.locked_until END
RETURNING ceil(extract(epoch FROM locked_until - now()))::bigint AS locked_for
"""

RESET = "DELETE FROM login_failures WHERE username = $1"


async def record_failure(
    conn: asyncpg.Connection,
    username: str,
    *,
    max_failures: int,
    window_seconds: int,
    lockout_seconds: int,
) -> int | None:
    """Count one wrong password; return the seconds the name is now locked for, if it is."""
    locked_for = await conn.fetchval(
        RECORD_FAILURE, username, max_failures, float(window_seconds), float(lockout_seconds)
    )
    return None if locked_for is None or locked_for <= 0 else locked_for


async def reset(conn: asyncpg.Connection, username: str) -> None:
    await conn.execute(RESET, username)
