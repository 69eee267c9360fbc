"""The cheapest round trip that proves the database answers."""

from __future__ import annotations

import asyncpg


async def ping(conn: asyncpg.Connection) -> None:
    await conn.fetchval("SELECT 1")
