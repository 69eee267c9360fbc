"""Roles (migration 0015): which employee holds which operator role."""

from __future__ import annotations

from dataclasses import dataclass

from shop.db.connections import Connection

# The caller's roles, found by id and name (both from the token), so a token of an employee
# who no longer exists holds none.
HELD_BY = """
SELECT r.role FROM roles r JOIN users u ON u.id = r.user_id
WHERE u.id = $1 AND u.username = $2
ORDER BY r.role
"""

HOLDS_ANY = """
SELECT EXISTS (
    SELECT 1 FROM roles r JOIN users u ON u.id = r.user_id
    WHERE u.id = $1 AND u.username = $2 AND r.role = ANY($3::text[])
)
"""

EVERYONE = """
SELECT u.username, r.role FROM roles r JOIN users u ON u.id = r.user_id
ORDER BY u.username, r.role
"""

FIND_EMPLOYEE = "SELECT id FROM users WHERE username = $1"

GIVE = """
INSERT INTO roles (user_id, role) VALUES ($1, $2)
ON CONFLICT (user_id, role) DO NOTHING
"""

# Every admin row, locked in one order, so removals of admins take turns (migration 0015).
LOCK_ADMINS = "SELECT user_id FROM roles WHERE role = 'admin' ORDER BY user_id FOR UPDATE"

TAKE = "DELETE FROM roles WHERE user_id = $1 AND role = $2"


@dataclass(frozen=True, slots=True)
class Holding:
    username: str
    role: str


async def held_by(conn: Connection, user_id: int, username: str) -> list[str]:
    return [row["role"] for row in await conn.fetch(HELD_BY, user_id, username)]


async def holds_any(conn: Connection, user_id: int, username: str, roles: list[str]) -> bool:
    return bool(await conn.fetchval(HOLDS_ANY, user_id, username, roles))


async def everyone(conn: Connection) -> list[Holding]:
    return [Holding(row["username"], row["role"]) for row in await conn.fetch(EVERYONE)]


async def find_employee(conn: Connection, username: str) -> int | None:
    user_id: int | None = await conn.fetchval(FIND_EMPLOYEE, username)
    return user_id


async def give(conn: Connection, user_id: int, role: str) -> None:
    await conn.execute(GIVE, user_id, role)


async def lock_admins(conn: Connection) -> list[int]:
    """The ids of every admin, their rows locked until the caller's transaction ends."""
    return [row["user_id"] for row in await conn.fetch(LOCK_ADMINS)]


async def take(conn: Connection, user_id: int, role: str) -> None:
    await conn.execute(TAKE, user_id, role)
