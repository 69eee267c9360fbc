"""Fixtures shared by the whole suite: a throwaway database for this run and settings for it."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import asyncpg
import pytest
from yarl import URL

from shop import migrate
from shop.config import Settings

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnop-0123456789-abcdefghijklmn"

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_on_server(name: str) -> str:
    """The admin URL with its database replaced by `name`."""
    return str(URL(ADMIN_URL).with_path(f"/{name}"))


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database() -> tuple[str, str]:
    """Create a uniquely named database; never the one an app serves from."""
    name = f"shop_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return name, database_on_server(name)


def drop_database(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database of this test run's own, migrated once, dropped at the end."""
    name, url = create_database()
    try:
        migrate.apply(url)
        yield url
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=TEST_SECRET,
        bcrypt_rounds=4,
        hash_threads=4,
        pool_min_size=1,
        pool_max_size=20,
        tx_attempts=10,
    )
