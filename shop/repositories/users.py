"""Employees: credentials and registration."""

from __future__ import annotations

from dataclasses import dataclass

from shop.db.connections import Connection

FIND_CREDENTIALS = "SELECT id, username, password_hash FROM users WHERE username = $1"

# Another name with this skeleton: the new one would look like it.
LOOKALIKE_EXISTS = """
SELECT EXISTS (SELECT 1 FROM users WHERE username_skeleton = $1 AND username <> $2)
"""

# Look-alike registrations take turns on their skeleton (key class 9 keeps these locks
# apart from the account locks of the write procedures, which use the one-bigint form).
LOCK_SKELETON = "SELECT pg_advisory_xact_lock(9, hashtext($1))"

CREATE = """
INSERT INTO users (username, password_hash, balance, username_skeleton) VALUES ($1, $2, $3, $4)
ON CONFLICT (username) DO NOTHING
RETURNING id
"""


@dataclass(frozen=True, slots=True)
class Credentials:
    user_id: int
    username: str
    """Exactly as stored, which is what tokens carry."""
    password_hash: str


async def find_credentials(conn: Connection, username: str) -> Credentials | None:
    row = await conn.fetchrow(FIND_CREDENTIALS, username)
    if row is None:
        return None
    return Credentials(row["id"], row["username"], row["password_hash"])


async def lookalike_exists(conn: Connection, username: str, skeleton: str) -> bool:
    return bool(await conn.fetchval(LOOKALIKE_EXISTS, skeleton, username))


async def lock_skeleton(conn: Connection, skeleton: str) -> None:
    """Wait for the skeleton's turn until the caller's transaction ends."""
    await conn.execute(LOCK_SKELETON, skeleton)


async def create(
    conn: Connection, username: str, skeleton: str, password_hash: str, balance: int
) -> int | None:
    """Insert the employee and return the new id; None when the name exists."""
    user_id: int | None = await conn.fetchval(CREATE, username, password_hash, balance, skeleton)
    return user_id
