"""Idempotency-Key on sendCoin and buy: applied at most once, the answer repeated, 409 and 422."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest

from shop.errors import IdempotencyKeyInFlightError, IdempotencyKeyReusedError
from tests.api.conftest import MakeEmployee
from tests.helpers import ShopClient, bearer, expect

REPLAYED = "Idempotent-Replayed"


async def send(
    client: ShopClient, token: str, key: str | None, **body: Any
) -> tuple[int, str, str | None]:
    """POST /api/sendCoin with the key; (status, body text, Idempotent-Replayed header)."""
    headers = bearer(token) | ({} if key is None else {"Idempotency-Key": key})
    response = await client.http.post("/api/sendCoin", json=body, headers=headers)
    return response.status, await response.text(), response.headers.get(REPLAYED)


async def buy(client: ShopClient, token: str, item: str, key: str) -> tuple[int, str, str | None]:
    headers = bearer(token) | {"Idempotency-Key": key}
    response = await client.http.get(f"/api/buy/{item}", headers=headers)
    return response.status, await response.text(), response.headers.get(REPLAYED)


async def coins(client: ShopClient, token: str) -> int:
    info = await client.info(token)
    assert info is not None
    return info.coins


async def test_a_repeated_transfer_moves_the_coins_once_and_repeats_the_answer(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    ann = await make_employee()
    ben = await make_employee()

    first = await send(client, ann.token, "thanks-1", toUser=ben.username, amount=7)
    again = await send(client, ann.token, "thanks-1", toUser=ben.username, amount=7)

    assert first == (200, "", None)
    assert again == (200, "", "true")
    assert await coins(client, ann.token) == 993
    assert await coins(client, ben.token) == 1007
    assert await db.fetchval("SELECT count(*) FROM transfers") == 1


async def test_a_repeated_purchase_buys_once(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    ann = await make_employee()

    assert await buy(client, ann.token, "cup", "order-1") == (200, "", None)
    assert await buy(client, ann.token, "cup", "order-1") == (200, "", "true")

    info = await client.info(ann.token)
    assert info is not None
    assert info.coins == 980
    assert [(i.type, i.quantity) for i in info.inventory] == [("cup", 1)]
    assert await db.fetchval("SELECT count(*) FROM purchases") == 1


async def test_the_same_key_with_another_request_is_422_and_changes_nothing(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    ann = await make_employee()
    ben = await make_employee()
    cat = await make_employee()
    await send(client, ann.token, "k", toUser=ben.username, amount=7)

    other_amount = await send(client, ann.token, "k", toUser=ben.username, amount=8)
    other_user = await send(client, ann.token, "k", toUser=cat.username, amount=7)
    other_route = await buy(client, ann.token, "pen", "k")

    reused = IdempotencyKeyReusedError().message
    for status, text, replayed in (other_amount, other_user, other_route):
        assert status == 422, text
        assert replayed is None
        assert json.loads(text) == {"errors": reused}
    assert await coins(client, ann.token) == 993
    assert await coins(client, cat.token) == 1000


async def test_a_refusal_by_the_data_is_kept_and_repeated_even_after_coins_arrive(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    """Stripe's rule: a processed request's answer, a 4xx included, is the key's answer."""
    ann = await make_employee()
    ben = await make_employee()

    refused = await send(client, ann.token, "big", toUser=ben.username, amount=1500)
    await client.send_coin(ben.token, ann.username, 600)  # now she could pay
    again = await send(client, ann.token, "big", toUser=ben.username, amount=1500)

    assert refused[0] == 400
    assert "not enough coins: balance 1000, amount 1500" in refused[1]
    assert again == (400, refused[1], "true")
    assert await coins(client, ann.token) == 1600
    # A new key is a new request.
    assert (await send(client, ann.token, "big-2", toUser=ben.username, amount=1500))[0] == 200


async def test_without_the_header_nothing_is_stored_and_nothing_replays(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    ann = await make_employee()
    ben = await make_employee()

    assert await send(client, ann.token, None, toUser=ben.username, amount=5) == (200, "", None)
    assert await send(client, ann.token, None, toUser=ben.username, amount=5) == (200, "", None)

    assert await coins(client, ann.token) == 990
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 0


@pytest.mark.parametrize(
    "key",
    ["", " ", "two words", "x" * 256, "ключ", "é"],
    ids=["empty", "space", "inner-space", "too-long", "cyrillic", "latin1"],
)
async def test_a_malformed_key_is_400_and_changes_nothing(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection, key: str
) -> None:
    ann = await make_employee()
    ben = await make_employee()
    headers = bearer(ann.token) | {"Idempotency-Key": key}

    sent = await client.http.post(
        "/api/sendCoin", json={"toUser": ben.username, "amount": 5}, headers=headers
    )
    bought = await client.http.get("/api/buy/pen", headers=headers)

    for response in (sent, bought):
        body = await expect(response, 400)
        assert "Idempotency-Key" in body["errors"]
    assert await coins(client, ann.token) == 1000
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 0


async def test_a_key_given_twice_is_400(client: ShopClient, make_employee: MakeEmployee) -> None:
    ann = await make_employee()
    ben = await make_employee()
    headers = [("Authorization", f"Bearer {ann.token}"), ("Idempotency-Key", "a")]
    headers.append(("Idempotency-Key", "a"))

    response = await client.http.post(
        "/api/sendCoin", json={"toUser": ben.username, "amount": 5}, headers=headers
    )

    await expect(response, 400)
    assert await coins(client, ann.token) == 1000


async def test_the_longest_and_oddest_valid_keys_work(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    ann = await make_employee()
    ben = await make_employee()

    for key in ("x" * 255, "!", "~{}[]'\"\\/:;=?@", "0" * 40):
        assert (await send(client, ann.token, key, toUser=ben.username, amount=1))[0] == 200
        assert (await send(client, ann.token, key, toUser=ben.username, amount=1))[2] == "true"

    assert await coins(client, ann.token) == 996


async def test_keys_of_two_employees_do_not_collide(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    ann = await make_employee()
    ben = await make_employee()
    cat = await make_employee()

    ann_sent = await send(client, ann.token, "same", toUser=cat.username, amount=10)
    ben_sent = await send(client, ben.token, "same", toUser=cat.username, amount=10)
    ben_other = await send(client, ben.token, "mine", toUser=cat.username, amount=3)
    ann_other = await send(client, ann.token, "mine", toUser=cat.username, amount=4)

    assert [r[:2] for r in (ann_sent, ben_sent, ben_other, ann_other)] == [(200, "")] * 4
    assert all(r[2] is None for r in (ann_sent, ben_sent, ben_other, ann_other))
    assert await coins(client, cat.token) == 1027


HOLD_ROW = "SELECT 1 FROM users WHERE id = $1 FOR UPDATE"
WAITING_ON_A_ROW = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    " AND query LIKE '%transfer_in_transaction%'"
)


async def until_waiting_on_a_row(observer: asyncpg.Connection, task: asyncio.Task[Any]) -> None:
    """Return once a keyed transfer waits for a row lock (or `task` ended: it did not wait)."""
    async with asyncio.timeout(30):  # a hang guard only
        while not task.done():
            if await observer.fetchval(WAITING_ON_A_ROW):
                return
            await asyncio.sleep(0.01)


async def test_a_repeat_while_the_first_is_in_flight_is_409_at_once(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection, database_url: str
) -> None:
    ann = await make_employee()
    ben = await make_employee()
    ann_id = await db.fetchval("SELECT id FROM users WHERE username = $1", ann.username)
    holder = await asyncpg.connect(database_url)
    try:
        held = holder.transaction()
        await held.start()
        await holder.execute(HOLD_ROW, ann_id)  # the first request's debit waits for this
        first = asyncio.create_task(send(client, ann.token, "slow", toUser=ben.username, amount=9))
        await until_waiting_on_a_row(db, first)

        repeat = await send(client, ann.token, "slow", toUser=ben.username, amount=9)
        other_body = await send(client, ann.token, "slow", toUser=ben.username, amount=1)
        assert not first.done()
        await held.rollback()
        answered = await first
    finally:
        await holder.close()

    in_flight = IdempotencyKeyInFlightError().message
    assert repeat[0] == 409
    assert in_flight in repeat[1]
    assert other_body[0] == 409  # in flight comes first: its request is not known yet
    assert answered == (200, "", None)
    after = await send(client, ann.token, "slow", toUser=ben.username, amount=9)
    assert after == (200, "", "true")
    assert await coins(client, ann.token) == 991


async def test_racing_keyed_transfers_each_apply_once_and_keep_their_answers(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    """20 keyed transfers of 100 from 1000 coins at once: 10 pass, and each key's answer
    (the serialization retries included) is stored exactly once and repeated."""
    ann = await make_employee()
    ben = await make_employee()

    async def one(i: int) -> tuple[int, str, str | None]:
        return await send(client, ann.token, f"race-{i}", toUser=ben.username, amount=100)

    results = await asyncio.gather(*(one(i) for i in range(20)))
    repeats = await asyncio.gather(*(one(i) for i in range(20)))

    assert sorted(r[0] for r in results) == [200] * 10 + [400] * 10
    assert [(r[0], r[1], "true") for r in results] == list(repeats)
    assert await coins(client, ann.token) == 0
    assert await db.fetchval("SELECT count(*) FROM transfers") == 10
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 20
