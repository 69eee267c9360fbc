"""Idempotency keys (migration 0013): who used which key, for what request, and its answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shop.db.connections import Connection

# The key's advisory lock and its stored answer, in one statement. The lock is the two-int4
# form (a key space apart from the accounts' one-bigint locks), from a 64-bit hash of the
# key seeded with the employee's id; it is tried, never waited for, and held until the
# transaction ends: while it is held, a request with the same key is in flight. A hash
# collision between two keys in flight at the same moment costs one spurious 409, never a
# wrong answer: the row is looked up by the key itself.
CLAIM = """
SELECT pg_try_advisory_xact_lock((h.v >> 32)::int4, ((h.v << 32) >> 32)::int4) AS free,
       k.fingerprint, k.status, k.body
FROM (SELECT hashtextextended($2, $1) AS v) h
LEFT JOIN idempotency_keys k ON k.user_id = $1 AND k.key = $2
"""

# Under SERIALIZABLE, a row with this key committed after this transaction's snapshot (the
# key's lock was released between the snapshot and the claim) fails with 40001, not 23505,
# because the claim read that key: the retry then finds the row and replays it.
STORE = """
INSERT INTO idempotency_keys (user_id, key, fingerprint, status, body)
VALUES ($1, $2, $3, $4, $5)
"""

DELETE_EXPIRED = """
DELETE FROM idempotency_keys k
USING (SELECT user_id, key FROM idempotency_keys
       WHERE created_at < $1 ORDER BY created_at LIMIT $2) old
WHERE k.user_id = old.user_id AND k.key = old.key
"""


@dataclass(frozen=True, slots=True)
class Claim:
    """`free`: no request with this key is in flight; `status` is None when none was stored."""

    free: bool
    fingerprint: bytes | None
    status: int | None
    body: str | None


async def claim(conn: Connection, user_id: int, key: str) -> Claim:
    """Take the key's lock for this transaction if free, and read what it stored before."""
    row = await conn.fetchrow(CLAIM, user_id, key)
    if row is None:  # pragma: no cover - one row, always
        raise RuntimeError("the claim returned no row")
    return Claim(row["free"], row["fingerprint"], row["status"], row["body"])


async def store(
    conn: Connection, user_id: int, key: str, fingerprint: bytes, status: int, body: str
) -> None:
    """Keep the answer under the key, in the caller's transaction."""
    await conn.execute(STORE, user_id, key, fingerprint, status, body)


async def delete_expired(conn: Connection, before: datetime, limit: int) -> int:
    """Delete up to `limit` keys created before `before`, oldest first; how many went.

    One short statement per batch (its own transaction when no other is open), so a clean-up
    of many keys never holds many row locks at once: call it again until it returns < limit.
    """
    status = await conn.execute(DELETE_EXPIRED, before, limit)
    return int(status.rsplit(" ", 1)[1])
