"""Brute-force protection of /api/auth: repeated wrong passwords lock one username out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from pydantic import ValidationError

from shop.app import create_app
from shop.auth.passwords import PasswordHasher
from shop.config import Settings
from tests.api.conftest import MakeEmployee
from tests.helpers import ShopClient, expect

AiohttpClient = Callable[..., Awaitable[TestClient]]


async def attempt(client: ShopClient, username: str, password: str) -> Any:
    return await client.http.post("/api/auth", json={"username": username, "password": password})


async def wrong(client: ShopClient, username: str, times: int) -> list[Any]:
    return [await attempt(client, username, f"wrong-{n}") for n in range(times)]


async def make_client(
    aiohttp_client: AiohttpClient, app_settings: Settings, **update: Any
) -> ShopClient:
    return ShopClient(await aiohttp_client(create_app(app_settings.model_copy(update=update))))


async def test_fifth_wrong_password_locks_the_name_with_retry_after(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    alice = await make_employee()

    first_four = await wrong(client, alice.username, 4)
    fifth = await attempt(client, alice.username, "wrong-again")

    for response in first_four:
        body = await expect(response, 401)
        assert body["errors"] == "wrong username or password"
        assert "Retry-After" not in response.headers
    body = await expect(fifth, 401)
    retry_after = int(fifth.headers["Retry-After"])
    assert 295 <= retry_after <= 300
    assert body["errors"] == (
        f"too many wrong passwords for this username; try again in {retry_after} seconds"
    )


async def test_locked_name_refuses_even_the_right_password(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    alice = await make_employee()
    await wrong(client, alice.username, 5)

    response = await attempt(client, alice.username, alice.password)

    body = await expect(response, 401)
    assert "try again in" in body["errors"]
    assert int(response.headers["Retry-After"]) > 0


async def test_locked_name_is_refused_without_running_bcrypt(
    client: ShopClient, make_employee: MakeEmployee, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await make_employee()
    await wrong(client, alice.username, 5)
    verified: list[str] = []
    original = PasswordHasher.verify

    async def counting(self: PasswordHasher, password: str, password_hash: str) -> bool:
        verified.append(password)
        return await original(self, password, password_hash)

    monkeypatch.setattr(PasswordHasher, "verify", counting)

    for password in ("wrong-x", alice.password):
        await expect(await attempt(client, alice.username, password), 401)

    assert verified == []


async def test_other_employees_log_in_while_one_name_is_locked(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    alice = await make_employee()
    bob = await make_employee()
    await wrong(client, alice.username, 5)

    assert await client.auth(bob.username, bob.password)
    assert await client.auth("carol-new", "carol-password")
    await client.auth(alice.username, alice.password, expected_status=401)


async def test_successful_login_resets_the_count(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    alice = await make_employee()
    await wrong(client, alice.username, 4)

    await client.auth(alice.username, alice.password)
    assert await db.fetchval("SELECT count(*) FROM login_failures") == 0
    again = await wrong(client, alice.username, 4)

    for response in again:
        await expect(response, 401)
        assert "Retry-After" not in response.headers
    assert await db.fetchval("SELECT failures FROM login_failures") == 4
    await client.auth(alice.username, alice.password)


async def test_lock_ends_after_the_lockout_and_counting_starts_again(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    alice = await make_employee()
    await wrong(client, alice.username, 5)

    await db.execute("UPDATE login_failures SET locked_until = now() - interval '1 second'")
    response = await attempt(client, alice.username, "still-wrong")

    await expect(response, 401)
    assert "Retry-After" not in response.headers
    assert await db.fetchval("SELECT failures FROM login_failures") == 1
    await client.auth(alice.username, alice.password)


async def test_failures_older_than_the_window_are_forgotten(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    alice = await make_employee()
    await wrong(client, alice.username, 4)
    await db.execute("UPDATE login_failures SET window_start = now() - interval '301 seconds'")

    response = await attempt(client, alice.username, "wrong-late")

    await expect(response, 401)
    assert "Retry-After" not in response.headers
    assert await db.fetchval("SELECT failures FROM login_failures") == 1


async def test_parallel_wrong_passwords_are_all_counted(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    make_employee: MakeEmployee,
    db: asyncpg.Connection,
) -> None:
    alice = await make_employee()
    lenient = await make_client(aiohttp_client, app_settings, login_max_failures=100)

    responses = await asyncio.gather(
        *(attempt(lenient, alice.username, f"guess-{n}") for n in range(20))
    )

    for response in responses:
        await expect(response, 401)
    assert await db.fetchval("SELECT failures FROM login_failures") == 20


async def test_lock_holds_across_app_instances(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    client: ShopClient,
    make_employee: MakeEmployee,
) -> None:
    alice = await make_employee()
    await wrong(client, alice.username, 5)
    other_worker = await make_client(aiohttp_client, app_settings)

    response = await attempt(other_worker, alice.username, alice.password)

    await expect(response, 401)
    assert "Retry-After" in response.headers


async def test_limits_come_from_settings(
    aiohttp_client: AiohttpClient, app_settings: Settings, make_employee: MakeEmployee
) -> None:
    alice = await make_employee()
    strict = await make_client(
        aiohttp_client, app_settings, login_max_failures=1, login_lockout_seconds=7
    )

    response = await attempt(strict, alice.username, "wrong")

    await expect(response, 401)
    assert response.headers["Retry-After"] in {"6", "7"}


@pytest.mark.parametrize(
    "env",
    [
        {"LOGIN_MAX_FAILURES": "0"},
        {"LOGIN_WINDOW_SECONDS": "0"},
        {"LOGIN_LOCKOUT_SECONDS": "-5"},
        {"LOGIN_LOCKOUT_SECONDS": "soon"},
    ],
)
def test_lockout_settings_are_validated(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=next(iter(env)).lower()):
        Settings()
