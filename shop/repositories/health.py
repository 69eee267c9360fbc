"""The cheapest round trip that proves the database answers."""

from __future__ import annotations

from shop.db.connections import Connection


async def ping(conn: Connection) -> None:
    await conn.fetchval("SELECT 1")
