"""Fixtures for fault tests: the app talks to PostgreSQL through a proxy the test controls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from shop.app import create_app
from shop.config import Settings
from tests.faults.proxy import DatabaseProxy
from tests.helpers import ShopClient

ACQUIRE_TIMEOUT = 1.0
STATEMENT_TIMEOUT_MS = 1000


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[DatabaseProxy]:
    url = URL(database_url)
    proxy = DatabaseProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest.fixture
def fault_settings(app_settings: Settings, proxy: DatabaseProxy) -> Settings:
    """The suite's app_settings, through the proxy, with short timeouts so faults show fast."""
    assert app_settings.database_url is not None
    url = URL(app_settings.database_url).with_host("127.0.0.1").with_port(proxy.port)
    return app_settings.model_copy(
        update={
            "database_url": str(url),
            "pool_acquire_timeout": ACQUIRE_TIMEOUT,
            "statement_timeout_ms": STATEMENT_TIMEOUT_MS,
            "pool_max_size": 10,
        }
    )


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    fault_settings: Settings,
    empty_tables: None,
) -> ShopClient:
    return ShopClient(await aiohttp_client(create_app(fault_settings)))
