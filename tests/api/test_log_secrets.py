"""Logs never carry passwords, tokens or the signing key, whatever goes wrong."""

from __future__ import annotations

import logging
import time

import jwt
import pytest

from shop.auth.passwords import PasswordHasher
from tests.api.conftest import MakeEmployee
from tests.conftest import TEST_SECRET
from tests.helpers import ShopClient, bearer, expect

PASSWORDS = [f"hunter2-wrong-{n}-Zq" for n in range(6)]


async def test_logs_hold_no_passwords_tokens_or_secret(
    client: ShopClient,
    make_employee: MakeEmployee,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    alice = await make_employee(password="alice-correct-horse-Zq")
    now = int(time.time())
    forged = jwt.encode(
        {"sub": "1", "name": alice.username, "iat": now, "exp": now + 60},
        "not-the-secret-0123456789-abcdefghijklmnop",
        algorithm="HS256",
    )
    expired = jwt.encode(
        {"sub": "1", "name": alice.username, "iat": now - 120, "exp": now - 60},
        TEST_SECRET,
        algorithm="HS256",
    )

    for password in PASSWORDS:  # wrong passwords, then the lock-out
        await client.auth(alice.username, password, expected_status=401)
    await client.auth(alice.username, alice.password, expected_status=401)
    for token in (forged, expired, alice.token + "x"):
        await expect(await client.http.get("/api/info", headers=bearer(token)), 401)
    body = {"username": "bob", "password": "bob-body-password-Zq", "extra": 1}
    await expect(await client.http.post("/api/auth", json=body), 400)

    async def crash(*_args: object) -> bool:
        raise RuntimeError("hasher crashed")

    bob = await make_employee()
    monkeypatch.setattr(PasswordHasher, "verify", crash)
    await client.auth(bob.username, "crash-password-Zq", expected_status=500)

    logged = caplog.text
    assert "unhandled error in POST /api/auth" in logged  # the logs were really captured
    assert f"login attempts for {alice.username!r}" in logged
    secrets = [
        *PASSWORDS,
        alice.password,
        bob.password,
        "bob-body-password-Zq",
        "crash-password-Zq",
        TEST_SECRET,
        alice.token,
        bob.token,
        forged,
        expired,
    ]
    for secret in secrets:
        assert secret not in logged
    for token in (alice.token, bob.token, forged, expired):
        assert token.rsplit(".", 1)[-1] not in logged  # not even the signature
