"""A write whose answer is lost, retried with the same Idempotency-Key: the coins move once."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shop.errors import OutcomeUnknownError, ServiceUnavailableError
from tests.faults.proxy import DatabaseProxy
from tests.helpers import ShopClient, bearer, login_all, run_shop

HANG_GUARD_SECONDS = 30


async def send_until_answered(
    client: ShopClient, token: str, key: str, to_user: str, amount: int
) -> tuple[int, str | None]:
    """What a client does after a 5xx: repeat with the same key, and while that says 409 (the
    first is still in flight on a connection the server has not yet seen close), again."""
    headers = bearer(token) | {"Idempotency-Key": key}
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        while True:
            response = await client.http.post(
                "/api/sendCoin", json={"toUser": to_user, "amount": amount}, headers=headers
            )
            if response.status != 409:
                return response.status, response.headers.get("Idempotent-Replayed")
            await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    ("marker", "first_error", "replayed"),
    [
        # The COMMIT reached the server and was applied; its reply was lost.
        (b"COMMIT", OutcomeUnknownError().message, "true"),
        # The move ran, but the link dropped before COMMIT: the server rolled it back.
        (b"transfer_in_transaction", ServiceUnavailableError().message, None),
    ],
    ids=["reply-to-commit-lost", "link-lost-before-commit"],
)
async def test_a_lost_answer_retried_with_the_same_key_moves_the_coins_once(
    client: ShopClient,
    proxy: DatabaseProxy,
    db: asyncpg.Connection,
    database_url: str,
    marker: bytes,
    first_error: str,
    replayed: str | None,
) -> None:
    tokens = await login_all(client.http, ["payer", "payee"])
    proxy.cut_after(marker)

    first = await client.http.post(
        "/api/sendCoin",
        json={"toUser": "payee", "amount": 7},
        headers=bearer(tokens["payer"]) | {"Idempotency-Key": "lost-1"},
    )
    assert proxy.trapped.is_set()
    assert first.status == 500
    assert (await first.json())["errors"] == first_error

    assert await send_until_answered(client, tokens["payer"], "lost-1", "payee", 7) == (
        200,
        replayed,
    )
    assert await send_until_answered(client, tokens["payer"], "lost-1", "payee", 7) == (
        200,
        "true",
    )
    assert await db.fetchval("SELECT count(*) FROM transfers WHERE amount = 7") == 1
    assert await db.fetchval("SELECT balance FROM users WHERE username = 'payer'") == 993
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 1
    audit = await run_shop("audit", env={"DATABASE_URL": database_url})
    assert audit.returncode == 0, audit.stdout + audit.stderr
