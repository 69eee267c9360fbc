"""A message with sendCoin: seen by its sender and receiver in /api/history, by nobody else,
never in /api/info; a bad one is a 400 that changes nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from shop.models import HistoryResponse
from tests.api.conftest import MakeEmployee
from tests.helpers import ShopClient, bearer, expect


async def send(client: ShopClient, token: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = bearer(token) | ({} if key is None else {"Idempotency-Key": key})
    return await client.http.post("/api/sendCoin", json=body, headers=headers)


async def messages(client: ShopClient, token: str) -> list[tuple[str, str | None]]:
    page = await client.history(token)
    assert isinstance(page, HistoryResponse)
    return [(entry.kind, entry.message) for entry in page.entries]


@pytest.mark.parametrize("key", [None, "thanks-1"], ids=["without key", "with key"])
async def test_the_message_is_shown_to_sender_and_receiver_only(
    client: ShopClient, make_employee: MakeEmployee, key: str | None
) -> None:
    alice, bob, carol = await make_employee(), await make_employee(), await make_employee()
    text = "for the review at 2 a.m. <b>really</b> 🙏"
    await expect(
        await send(
            client, alice.token, {"toUser": bob.username, "amount": 5, "message": text}, key
        ),
        200,
    )
    await expect(await send(client, carol.token, {"toUser": bob.username, "amount": 1}), 200)
    await client.buy(alice.token, "pen")

    assert await messages(client, alice.token) == [("purchase", None), ("sent", text)]
    assert await messages(client, bob.token) == [("received", None), ("received", text)]
    assert await messages(client, carol.token) == [("sent", None)]
    raw = await (await client.http.get("/api/info", headers=bearer(bob.token))).text()
    assert "review" not in raw
    info = await client.info(bob.token)  # the contract's exact shape, nothing added
    assert info is not None
    assert info.coins == 1006


async def test_a_message_of_200_characters_is_kept_whole_and_an_empty_one_is_none(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    alice, bob = await make_employee(), await make_employee()
    longest = "é" * 200

    await expect(
        await send(client, alice.token, {"toUser": bob.username, "amount": 1, "message": longest}),
        200,
    )
    await expect(
        await send(client, alice.token, {"toUser": bob.username, "amount": 1, "message": ""}), 200
    )

    assert await messages(client, bob.token) == [("received", None), ("received", longest)]


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("x" * 201, id="201 characters"),
        pytest.param("line\nbreak", id="newline"),
        pytest.param("nul\x00", id="NUL"),
        pytest.param("bell\x07", id="BEL"),
        pytest.param("c1\x85", id="C1 control"),
        pytest.param(42, id="not a string"),
        pytest.param(["hi"], id="a list"),
    ],
)
async def test_a_bad_message_is_400_and_moves_nothing(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee, message: object
) -> None:
    alice, bob = await make_employee(), await make_employee()

    body = await expect(
        await send(client, alice.token, {"toUser": bob.username, "amount": 5, "message": message}),
        400,
    )

    assert "message" in body["errors"]
    assert await db.fetchval("SELECT count(*) FROM transfers") == 0
    assert (await client.info(alice.token)).coins == 1000


async def test_the_same_key_with_another_message_is_422(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    alice, bob = await make_employee(), await make_employee()
    body = {"toUser": bob.username, "amount": 5, "message": "first"}
    await expect(await send(client, alice.token, body, key="k"), 200)

    await expect(await send(client, alice.token, {**body, "message": "second"}, key="k"), 422)
    replay = await send(client, alice.token, body, key="k")

    assert replay.status == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert await messages(client, bob.token) == [("received", "first")]
