"""Fixtures for tests that talk HTTP to the app backed by the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient

from shop.app import create_app
from shop.config import Settings
from tests.factories import CredentialsFactory
from tests.helpers import ShopClient


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
