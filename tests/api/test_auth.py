"""POST /api/auth: registration on first login, password checks, limits."""

from __future__ import annotations

import asyncio

import asyncpg
import bcrypt
import jwt

from shop.config import Settings
from tests.conftest import TEST_SECRET
from tests.helpers import ShopClient


async def test_first_login_creates_employee_with_1000_coins(
    client: ShopClient, db: asyncpg.Connection
) -> None:
    token = await client.auth("alice", "wonderland")

    info = await client.info(token)
    assert info is not None
    assert info.coins == 1000
    assert info.inventory == []
    assert info.coin_history.received == info.coin_history.sent == []
    assert await db.fetchval("SELECT count(*) FROM users WHERE username = 'alice'") == 1


async def test_password_is_stored_only_as_bcrypt_hash(
    client: ShopClient, db: asyncpg.Connection
) -> None:
    await client.auth("alice", "wonderland")

    stored = await db.fetchval("SELECT password_hash FROM users WHERE username = 'alice'")
    assert stored.startswith("$2b$")
    assert "wonderland" not in stored


async def test_second_login_with_same_password_succeeds(client: ShopClient) -> None:
    await client.auth("alice", "wonderland")
    token = await client.auth("alice", "wonderland")

    assert await client.info(token) is not None


async def test_login_with_wrong_password_is_unauthorized(client: ShopClient) -> None:
    await client.auth("alice", "wonderland")

    await client.auth("alice", "looking-glass", expected_status=401)


async def test_token_carries_id_name_and_expiry(client: ShopClient) -> None:
    token = await client.auth("alice", "wonderland")

    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"])
    assert claims["name"] == "alice"
    assert claims["sub"].isdigit()
    assert claims["exp"] - claims["iat"] == 24 * 3600


async def test_simultaneous_first_logins_create_one_employee(
    client: ShopClient, db: asyncpg.Connection, app_settings: Settings
) -> None:
    # As many as one address may have verified at once: each login that finds the name taken
    # is charged before bcrypt, and more at once are throttled (tests/api/test_login_perimeter).
    at_once = app_settings.login_max_failures
    tokens = await asyncio.gather(
        *(client.auth("newcomer", "same-password") for _ in range(at_once))
    )

    assert len(tokens) == at_once
    assert await db.fetchval("SELECT count(*) FROM users WHERE username = 'newcomer'") == 1
    info = await client.info(tokens[-1])
    assert info is not None
    assert info.coins == 1000


async def test_racing_first_logins_with_different_passwords_agree_on_one_owner(
    client: ShopClient, db: asyncpg.Connection
) -> None:
    passwords = ["right", "other"] * 4

    responses = await asyncio.gather(
        *(
            client.http.post("/api/auth", json={"username": "contested", "password": p})
            for p in passwords
        )
    )

    assert await db.fetchval("SELECT count(*) FROM users WHERE username = 'contested'") == 1
    # The first login to commit owns the name; the other password's guesses may also make the
    # throttle hold the owner's later attempts back (401 with Retry-After), never the reverse.
    owners = {p for p, r in zip(passwords, responses, strict=True) if r.status == 200}
    assert len(owners) == 1
    (owner,) = owners
    stored = await db.fetchval("SELECT password_hash FROM users WHERE username = 'contested'")
    assert bcrypt.checkpw(owner.encode(), stored.encode())
    for password, response in zip(passwords, responses, strict=True):
        assert response.status in (200, 401)
        if password == owner and response.status == 401:
            assert "Retry-After" in response.headers  # held back, not refused as wrong


async def test_username_and_password_at_their_limits_are_accepted(client: ShopClient) -> None:
    await client.auth("u" * 64, "p" * 72)
    await client.auth("ф" * 64, "я" * 36)  # 64 characters; 72 bytes in UTF-8
    await client.auth("名前", "пароль 🔑")
