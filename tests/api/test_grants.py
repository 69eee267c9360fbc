"""Grants over HTTP: named grants all or nothing, grants to all accepted at once, keys."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from shop.models import HistoryResponse
from tests.api.conftest import Employee, MakeEmployee
from tests.helpers import ShopClient, bearer, expect

GIVE_ROLE = "INSERT INTO roles (user_id, role) SELECT id, $2 FROM users WHERE username = $1"
BALANCES = "SELECT username, balance FROM users ORDER BY id"


async def treasurer(db: asyncpg.Connection, make: MakeEmployee) -> Employee:
    who = await make()
    await db.execute(GIVE_ROLE, who.username, "treasurer")
    return who


async def post_grant(
    client: ShopClient, token: str, body: dict[str, Any], key: str | None = "k-1"
) -> Any:
    headers = bearer(token) | ({} if key is None else {"Idempotency-Key": key})
    return await client.http.post("/api/admin/grants", json=body, headers=headers)


async def test_a_named_grant_credits_everyone_named_before_the_answer(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    boss = await treasurer(db, make_employee)
    alice, bob = await make_employee(), await make_employee()
    body = {"amount": 25, "reason": "shipped it", "toUsers": [alice.username, bob.username]}

    answer = await expect(await post_grant(client, boss.token, body), 200)

    assert answer == {
        "id": answer["id"],
        "amount": 25,
        "reason": "shipped it",
        "status": "done",
        "recipients": 2,
        "granted": 2,
    }
    assert (await client.info(alice.token)).coins == 1025
    assert (await client.info(bob.token)).coins == 1025
    assert (await client.info(boss.token)).coins == 1000
    progress = await client.http.get(
        f"/api/admin/grants/{answer['id']}", headers=bearer(boss.token)
    )
    assert await expect(progress, 200) == answer


async def test_a_named_grant_with_one_unknown_name_changes_nothing(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    boss = await treasurer(db, make_employee)
    alice = await make_employee()
    before = await db.fetch(BALANCES)
    body = {"amount": 25, "reason": "r", "toUsers": [alice.username, "nobody-here"]}

    refused = await expect(await post_grant(client, boss.token, body), 400)

    assert "nobody-here" in refused["errors"]
    assert await db.fetch(BALANCES) == before
    assert await db.fetchval("SELECT count(*) FROM grants") == 0
    assert await db.fetchval("SELECT count(*) FROM grant_credits") == 0


async def test_the_wallet_shows_a_grant_at_once_though_its_body_was_cached(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    """/api/info's cache is keyed on the users row's xmin: the credit rewrites that row."""
    boss = await treasurer(db, make_employee)
    alice = await make_employee()
    assert (await client.info(alice.token)).coins == 1000
    assert (await client.info(alice.token)).coins == 1000  # the cached body, re-sent

    body = {"amount": 7, "reason": "r", "toUsers": [alice.username]}
    await expect(await post_grant(client, boss.token, body), 200)

    assert (await client.info(alice.token)).coins == 1007


async def test_a_repeated_key_replays_the_grant_and_credits_once(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    boss = await treasurer(db, make_employee)
    alice = await make_employee()
    body = {"amount": 10, "reason": "r", "toUsers": [alice.username]}

    first = await post_grant(client, boss.token, body, key="same")
    again = await post_grant(client, boss.token, body, key="same")
    other = await post_grant(client, boss.token, {**body, "amount": 11}, key="same")

    assert await expect(again, 200) == await expect(first, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    await expect(other, 422)
    assert (await client.info(alice.token)).coins == 1010


async def test_a_grant_to_all_is_accepted_at_once_for_everyone_who_exists(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    boss = await treasurer(db, make_employee)
    for _ in range(3):
        await make_employee()

    answer = await expect(
        await post_grant(client, boss.token, {"amount": 5, "reason": "q4", "toAll": True}), 202
    )

    assert answer["status"] == "running"
    assert (answer["recipients"], answer["granted"]) == (4, 0)
    assert await db.fetchval("SELECT sum(balance) FROM users") == 4000  # the worker's job


@pytest.mark.parametrize(
    ("body", "key"),
    [
        pytest.param({"amount": 5, "reason": "r", "toUsers": ["{a}"]}, None, id="no key"),
        pytest.param({"amount": 5, "reason": "r", "toUsers": ["{a}", "{a}"]}, "k", id="twice"),
        pytest.param({"amount": 5, "reason": "r"}, "k", id="nobody"),
        pytest.param(
            {"amount": 5, "reason": "r", "toUsers": ["{a}"], "toAll": True}, "k", id="both"
        ),
        pytest.param({"amount": 5, "reason": "r", "toAll": False}, "k", id="toAll false"),
        pytest.param({"amount": 0, "reason": "r", "toUsers": ["{a}"]}, "k", id="amount 0"),
        pytest.param({"amount": 1_000_001, "reason": "r", "toAll": True}, "k", id="too much"),
        pytest.param({"amount": 5, "reason": "", "toAll": True}, "k", id="no reason"),
        pytest.param({"amount": 5, "reason": "a\nb", "toAll": True}, "k", id="control char"),
        pytest.param({"amount": 5, "reason": "r" * 201, "toAll": True}, "k", id="long reason"),
        pytest.param({"amount": 5, "reason": "r", "toUsers": []}, "k", id="empty list"),
    ],
)
async def test_a_bad_grant_request_is_400_and_changes_nothing(
    client: ShopClient,
    db: asyncpg.Connection,
    make_employee: MakeEmployee,
    body: dict[str, Any],
    key: str | None,
) -> None:
    boss = await treasurer(db, make_employee)
    alice = await make_employee()
    if "toUsers" in body:
        body = {**body, "toUsers": [alice.username for _ in body["toUsers"]]}

    await expect(await post_grant(client, boss.token, body, key=key), 400)

    assert await db.fetchval("SELECT count(*) FROM grants") == 0
    assert await db.fetchval("SELECT sum(balance) FROM users") == 2000


@pytest.mark.parametrize("grant_id", ["999999", "abc", "-1", "1" * 40])
async def test_an_unknown_grant_is_400(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee, grant_id: str
) -> None:
    boss = await treasurer(db, make_employee)

    response = await client.http.get(f"/api/admin/grants/{grant_id}", headers=bearer(boss.token))

    await expect(response, 400)


async def test_a_named_grant_to_1000_long_names_fits_in_one_request(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    boss = await treasurer(db, make_employee)
    names = [f"{n:04d}".ljust(64, "x") for n in range(1000)]
    await db.execute(
        "INSERT INTO users (username, password_hash, balance, username_skeleton)"
        " SELECT n, 'x', 1000, n FROM unnest($1::text[]) n",
        names,
    )

    answer = await expect(
        await post_grant(client, boss.token, {"amount": 3, "reason": "all", "toUsers": names}), 200
    )

    assert (answer["recipients"], answer["granted"]) == (1000, 1000)
    assert await db.fetchval("SELECT count(*) FROM users WHERE balance = 1003") == 1000


async def test_a_grant_is_a_movement_of_its_own_kind_in_the_recipients_history(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    boss = await treasurer(db, make_employee)
    alice, bob = await make_employee(), await make_employee()
    await client.send_coin(bob.token, alice.username, 3)
    body = {"amount": 40, "reason": "team shipped", "toUsers": [alice.username]}
    grant = await expect(await post_grant(client, boss.token, body), 200)
    await client.buy(alice.token, "pen")

    page = await client.history(alice.token)
    others = [await client.history(who.token) for who in (boss, bob)]

    assert isinstance(page, HistoryResponse)
    assert [(e.id, e.kind, e.amount, e.reason, e.counterparty) for e in page.entries] == [
        (page.entries[0].id, "purchase", 10, None, None),
        (f"grant-{grant['id']}", "grant", 40, "team shipped", None),
        (page.entries[2].id, "received", 3, None, bob.username),
    ]
    for other in others:
        assert isinstance(other, HistoryResponse)
        assert all(e.kind != "grant" for e in other.entries)
