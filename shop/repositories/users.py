"""Employees: credentials and registration."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

# The lock-out state comes with the credentials, so the usual login costs no extra round trip.
FIND_CREDENTIALS = """
SELECT u.id, u.password_hash, f.failures IS NOT NULL AS has_failures,
       ceil(extract(epoch FROM f.locked_until - now()))::bigint AS locked_for
FROM users AS u
LEFT JOIN login_failures AS f ON f.username = u.username
WHERE u.username = $1
"""

CREATE = """
INSERT INTO users (username, password_hash, balance) VALUES ($1, $2, $3)
ON CONFLICT (username) DO NOTHING
RETURNING id
"""


@dataclass(frozen=True, slots=True)
class Credentials:
    user_id: int
    password_hash: str
    has_failures: bool = False
    """Wrong passwords are on record for this name (a successful login clears them)."""
    locked_for: int | None = None
    """Seconds this name stays locked out; None or not positive when it is not locked."""

    @property
    def locked(self) -> bool:
        return self.locked_for is not None and self.locked_for > 0


async def find_credentials(conn: asyncpg.Connection, username: str) -> Credentials | None:
    row = await conn.fetchrow(FIND_CREDENTIALS, username)
    if row is None:
        return None
    return Credentials(row["id"], row["password_hash"], row["has_failures"], row["locked_for"])


async def create(
    conn: asyncpg.Connection, username: str, password_hash: str, balance: int
) -> int | None:
    """Insert the employee; None when the username was taken meanwhile."""
    return await conn.fetchval(CREATE, username, password_hash, balance)
