"""Employees: credentials and registration."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

FIND_CREDENTIALS = "SELECT id, password_hash FROM users WHERE username = $1"

CREATE = """
INSERT INTO users (username, password_hash, balance) VALUES ($1, $2, $3)
ON CONFLICT (username) DO NOTHING
RETURNING id
"""


@dataclass(frozen=True, slots=True)
class Credentials:
    user_id: int
    password_hash: str


async def find_credentials(conn: asyncpg.Connection, username: str) -> Credentials | None:
    row = await conn.fetchrow(FIND_CREDENTIALS, username)
    return None if row is None else Credentials(row["id"], row["password_hash"])


async def create(
    conn: asyncpg.Connection, username: str, password_hash: str, balance: int
) -> int | None:
    """Insert the employee; None when the username was taken meanwhile."""
    return await conn.fetchval(CREATE, username, password_hash, balance)
