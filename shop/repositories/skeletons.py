"""Stored username skeletons: finding the rows without one (or an outdated one)."""

from __future__ import annotations

import asyncpg

ALL_NAMES = "SELECT id, username, username_skeleton FROM users ORDER BY id"

SET_SKELETONS = """
UPDATE users AS u SET username_skeleton = s.skeleton
FROM unnest($1::bigint[], $2::text[]) AS s (id, skeleton)
WHERE u.id = s.id
"""


async def all_names(conn: asyncpg.Connection) -> list[tuple[int, str, str | None]]:
    return [(r["id"], r["username"], r["username_skeleton"]) for r in await conn.fetch(ALL_NAMES)]


async def set_skeletons(conn: asyncpg.Connection, ids: list[int], skeletons: list[str]) -> None:
    await conn.execute(SET_SKELETONS, ids, skeletons)
