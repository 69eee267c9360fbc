"""Migrations: the stairway up and down, and `shop migrate` run again."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import pytest

from shop.db import migrate
from tests.conftest import TABLES, create_database, drop_database
from tests.helpers import run_shop


async def tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {r["tablename"] for r in rows} & TABLES


@pytest.fixture
def scratch_database(admin_url: str) -> Iterator[str]:
    name, url = create_database(admin_url)
    try:
        yield url
    finally:
        drop_database(admin_url, name)


async def test_migrations_go_up_down_and_up_again(scratch_database: str) -> None:
    steps = sorted(p.stem for p in migrate.migrations_dir().glob("*.sql") if "." not in p.stem)
    assert migrate.apply(scratch_database) == steps
    assert await tables(scratch_database) == TABLES

    assert migrate.rollback(scratch_database, len(steps)) == steps[::-1]
    assert await tables(scratch_database) == set()

    for step in steps:  # the stairway
        assert migrate.apply(scratch_database, steps=1) == [step]
        assert migrate.rollback(scratch_database, 1) == [step]
        assert migrate.apply(scratch_database, steps=1) == [step]
    assert migrate.apply(scratch_database) == []
    assert await tables(scratch_database) == TABLES


async def test_migrate_command_twice_is_a_no_op(database_url: str) -> None:
    result = await run_shop("migrate", env={"DATABASE_URL": database_url})

    assert result.returncode == 0, result.stderr
    assert "none pending" in result.stderr
