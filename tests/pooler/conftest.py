"""Fixtures for tests that run the service through a real PgBouncer in transaction mode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from shop.app import create_app
from shop.config import Settings
from shop.db.pool import create_pool
from tests.helpers import ShopClient
from tests.pooler.bouncer import PgBouncer, pgbouncer_binary

STATEMENT_TIMEOUT_MS = 1000

FAULTS = """
CREATE OR REPLACE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.amount = 13 THEN
        RAISE EXCEPTION 'injected' USING ERRCODE = 'serialization_failure';
    ELSIF NEW.amount = 17 THEN
        PERFORM pg_sleep(60);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER injected_fault BEFORE INSERT ON transfers
    FOR EACH ROW EXECUTE FUNCTION injected_fault();
"""
"""Faults raised or held in the middle of transfer_coins, after it took its locks:
amount 13 fails with 40001, amount 17 sleeps in the server."""

NO_FAULTS = "DROP TRIGGER injected_fault ON transfers; DROP FUNCTION injected_fault()"

SERIALIZATION_FAILURE = 13
SLOW = 17


@pytest.fixture(scope="session")
def bouncer(admin_url: str) -> Iterator[PgBouncer]:
    if pgbouncer_binary() is None:
        pytest.skip("pgbouncer is not installed; run_tests.sh installs it under CI=true")
    running = PgBouncer(admin_url)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def pooled_settings(app_settings: Settings, database_url: str, bouncer: PgBouncer) -> Settings:
    """The suite's settings with the app behind PgBouncer, and a short statement limit."""
    return app_settings.model_copy(
        update={
            "database_url": bouncer.url(database_url),
            "database_pooler": "transaction",
            "statement_timeout_ms": STATEMENT_TIMEOUT_MS,
            "pool_max_size": 10,
        }
    )


@pytest.fixture
async def pooled_client(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    pooled_settings: Settings,
    db: asyncpg.Connection,
) -> ShopClient:
    return ShopClient(await aiohttp_client(create_app(pooled_settings)))


@pytest.fixture
async def pooled_pool(pooled_settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """The app's own pool, built as the app builds it, through PgBouncer."""
    assert pooled_settings.database_url is not None
    async with create_pool(pooled_settings, pooled_settings.database_url) as pool:
        yield pool


@pytest.fixture
async def injected_faults(db: asyncpg.Connection) -> AsyncIterator[None]:
    await db.execute(FAULTS)
    try:
        yield
    finally:
        await db.execute(NO_FAULTS)
