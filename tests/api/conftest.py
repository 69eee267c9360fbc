"""Fixtures for tests that talk HTTP to the app backed by the real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from shop.app import create_app
from shop.config import Settings
from tests.conftest import TEST_SECRET
from tests.factories import CredentialsFactory
from tests.helpers import Server, ShopClient


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    app_settings: Settings,
    empty_tables: None,
) -> ShopClient:
    return ShopClient(await aiohttp_client(create_app(app_settings)))


@dataclass(frozen=True)
class Employee:
    username: str
    password: str
    token: str


MakeEmployee = Callable[..., Awaitable[Employee]]


@pytest.fixture
def make_employee(client: ShopClient) -> MakeEmployee:
    """Register an employee through the real /api/auth."""

    async def make(**overrides: str) -> Employee:
        creds = CredentialsFactory.build(**overrides)
        token = await client.auth(creds.username, creds.password)
        return Employee(creds.username, creds.password, token)

    return make


PERIMETER_NAME_CEILING = 30
"""LOGIN_NAME_MAX_FAILURES of the perimeter server: small enough to reach in a test."""


def perimeter_env(database_url: str, **overrides: str) -> dict[str, str]:
    """`shop serve` with 2 workers behind a trusted proxy (this host), so tests can speak
    for many client addresses through X-Forwarded-For."""
    return {
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_SECRET,
        "WORKERS": "2",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "LOGIN_NAME_MAX_FAILURES": str(PERIMETER_NAME_CEILING),
        # The login deadline has a test of its own; here a busy machine must not turn a
        # login into a 500 "too many logins at once".
        "HASH_WAIT_SECONDS": "60",
        "POOL_ACQUIRE_TIMEOUT": "30",
        **overrides,
    }


def start_server(env: dict[str, str], seconds: float = 60) -> Server:
    """Start `shop serve` and wait until it answers; the caller stops it."""
    server = Server(env)
    try:
        asyncio.run(server.wait_ready(seconds))
    except BaseException:
        server.ensure_dead()
        raise
    return server


@pytest.fixture(scope="session")
def perimeter_server(database_url: str) -> Iterator[Server]:
    server = start_server(perimeter_env(database_url))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A new connection per request (so requests spread over both workers), no pool limit."""
    connector = aiohttp.TCPConnector(force_close=True, limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session
