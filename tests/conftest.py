"""Fixtures shared by the whole suite: a throwaway database for this run and settings for it."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from yarl import URL

from shop.config import Settings
from shop.db import embedded, migrate
from tests.helpers import HASH_WAIT_SECONDS
from tests.pooler.bouncer import PgBouncer

TABLES = frozenset(
    {
        "users",
        "transfers",
        "purchases",
        "transfer_totals",
        "inventory",
        "app_secrets",
        "login_attempts",
        "employee_directory",
        "idempotency_keys",
        "roles",
        "grants",
        "grant_credits",
    }
)
"""Every table the migrations create."""

KEPT_BETWEEN_TESTS = frozenset({"app_secrets"})
"""The deployment's own JWT key: made once, like in production, whichever test comes first."""

EMPTY_TABLES = f"TRUNCATE {', '.join(sorted(TABLES - KEPT_BETWEEN_TESTS))} RESTART IDENTITY CASCADE"

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnop-0123456789-abcdefghijklmn"


@pytest.fixture(scope="session")
def admin_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A server the suite may create databases on (run_tests.sh chooses which)."""
    if os.environ.get("SHOP_TEST_EMBEDDED_PG") == "1":
        return embedded.start(tmp_path_factory.mktemp("embedded") / "pgdata")
    return os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(admin_url: str) -> tuple[str, str]:
    """Create a uniquely named database, never one an app serves from; return name and URL."""
    name = f"shop_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    server = URL(admin_url)
    return name, str(server.with_path(f"/{name}").with_query(server.query))


def drop_database(admin_url: str, name: str) -> None:
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url(admin_url: str) -> Iterator[str]:
    """A database of this test run's own, migrated once, dropped at the end."""
    name, url = create_database(admin_url)
    try:
        migrate.apply(url)
        yield url
    finally:
        drop_database(admin_url, name)


@pytest.fixture(scope="session")
def pgbouncer(admin_url: str) -> Iterator[PgBouncer | None]:
    """With SHOP_TESTS_THROUGH_PGBOUNCER=1, a real PgBouncer in transaction mode that the apps
    under test connect through (tests/pooler); otherwise None. Fixtures that set up and check
    state always connect directly."""
    if os.environ.get("SHOP_TESTS_THROUGH_PGBOUNCER") != "1":
        yield None
        return
    bouncer = PgBouncer(admin_url)
    try:
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture(scope="session")
def app_database_url(database_url: str, pgbouncer: PgBouncer | None) -> str:
    """Where the app under test connects: the database, or PgBouncer in front of it."""
    return database_url if pgbouncer is None else pgbouncer.url(database_url)


@pytest.fixture(scope="session")
def app_settings(database_url: str, app_database_url: str) -> Settings:
    """The app's settings for this run (not `settings`: that is hypothesis' decorator)."""
    return Settings(
        database_url=app_database_url,
        database_pooler="none" if app_database_url == database_url else "transaction",
        jwt_secret=TEST_SECRET,
        bcrypt_rounds=4,
        hash_threads=4,
        pool_min_size=1,
        pool_max_size=20,
        tx_attempts=10,
        hash_wait_seconds=HASH_WAIT_SECONDS,
    )


@pytest.fixture
async def empty_tables(database_url: str) -> None:
    """Start the test on empty tables, with ids counting from 1 again."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(EMPTY_TABLES)
    finally:
        await conn.close()


@pytest.fixture
async def db(database_url: str, empty_tables: None) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection for setting up and checking state, on empty tables."""
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()
