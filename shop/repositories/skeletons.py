"""Stored username skeletons, kept up to date by `shop migrate` (psycopg, like yoyo)."""

from __future__ import annotations

import psycopg

HAS_COLUMN = """
SELECT EXISTS (
    SELECT 1 FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'users'
      AND column_name = 'username_skeleton'
)
"""

ALL_NAMES = "SELECT id, username, username_skeleton FROM users ORDER BY id"

SET_SKELETONS = """
UPDATE users AS u SET username_skeleton = s.skeleton
FROM unnest(%s::bigint[], %s::text[]) AS s (id, skeleton)
WHERE u.id = s.id
"""


def has_column(conn: psycopg.Connection) -> bool:
    row = conn.execute(HAS_COLUMN).fetchone()
    return bool(row and row[0])


def all_names(conn: psycopg.Connection) -> list[tuple[int, str, str | None]]:
    return [(r[0], r[1], r[2]) for r in conn.execute(ALL_NAMES).fetchall()]


def set_skeletons(conn: psycopg.Connection, ids: list[int], skeletons: list[str]) -> None:
    conn.execute(SET_SKELETONS, (ids, skeletons))
