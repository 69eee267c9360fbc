"""The employee directory table (used when EMPLOYEE_DIRECTORY=database)."""

from __future__ import annotations

from shop.db.connections import Connection

CONTAINS = "SELECT EXISTS (SELECT 1 FROM employee_directory WHERE username = $1)"

IMPORT = """
INSERT INTO employee_directory (username) SELECT unnest($1::text[])
ON CONFLICT (username) DO NOTHING
"""


async def contains(conn: Connection, username: str) -> bool:
    return bool(await conn.fetchval(CONTAINS, username))


async def add(conn: Connection, names: list[str]) -> int:
    """Add the names not listed yet; return how many were new."""
    status = await conn.execute(IMPORT, names)
    return int(status.rsplit(" ", 1)[-1])
