"""POST /api/sendCoin: transfers, grouped history, rules, and races."""

from __future__ import annotations

import asyncio
import random
import re

import asyncpg

from tests.api.conftest import MakeEmployee
from tests.helpers import ShopClient, bearer, run_shop


async def test_transfers_among_three_employees_are_grouped_per_counterparty(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    ann = await make_employee(username="ann")
    ben = await make_employee(username="ben")
    cat = await make_employee(username="cat")

    await client.send_coin(ann.token, "ben", 10)
    await client.send_coin(ann.token, "ben", 15)
    await client.send_coin(ann.token, "cat", 5)
    await client.send_coin(ben.token, "ann", 7)
    await client.send_coin(cat.token, "ann", 1)
    await client.send_coin(cat.token, "ann", 2)
    await client.send_coin(cat.token, "ben", 100)

    ann_info, ben_info, cat_info = [await client.info(e.token) for e in (ann, ben, cat)]
    assert ann_info is not None
    assert ben_info is not None
    assert cat_info is not None
    assert ann_info.coins == 1000 - 30 + 7 + 3
    assert ben_info.coins == 1000 + 25 - 7 + 100
    assert cat_info.coins == 1000 + 5 - 3 - 100
    history = ann_info.model_dump(by_alias=True)["coinHistory"]
    assert history == {
        "received": [{"fromUser": "ben", "amount": 7}, {"fromUser": "cat", "amount": 3}],
        "sent": [{"toUser": "ben", "amount": 25}, {"toUser": "cat", "amount": 5}],
    }
    assert ben_info.model_dump(by_alias=True)["coinHistory"] == {
        "received": [{"fromUser": "ann", "amount": 25}, {"fromUser": "cat", "amount": 100}],
        "sent": [{"toUser": "ann", "amount": 7}],
    }


async def test_sending_the_whole_balance_leaves_zero(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    ann = await make_employee()
    ben = await make_employee()

    await client.send_coin(ann.token, ben.username, 1000)

    info = await client.info(ann.token)
    assert info is not None
    assert info.coins == 0
    await client.send_coin(ann.token, ben.username, 1, expected_status=400)


async def test_sending_more_than_balance_is_rejected_and_changes_nothing(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    ann = await make_employee()
    ben = await make_employee()

    error = await client.send_coin(ann.token, ben.username, 1001, expected_status=400)

    assert error == {"errors": "not enough coins: balance 1000, amount 1001"}
    assert await db.fetchval("SELECT count(*) FROM transfers") == 0
    assert await db.fetchval("SELECT count(*) FROM transfer_totals") == 0
    assert await db.fetchval("SELECT sum(balance) FROM users") == 2000


async def test_sending_to_yourself_is_rejected(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    ann = await make_employee()

    error = await client.send_coin(ann.token, ann.username, 5, expected_status=400)

    assert error == {"errors": "cannot send coins to yourself"}


async def test_sending_to_unknown_employee_is_rejected(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    ann = await make_employee()

    error = await client.send_coin(ann.token, "nobody", 5, expected_status=400)

    assert error == {"errors": "recipient 'nobody' does not exist"}


async def test_opposite_transfers_at_once_neither_deadlock_nor_lose_coins(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    ann = await make_employee()
    ben = await make_employee()

    responses = await asyncio.gather(
        *(
            client.http.post(
                "/api/sendCoin",
                json={"toUser": b.username, "amount": 3},
                headers=bearer(a.token),
            )
            for a, b in [(ann, ben), (ben, ann)] * 25
        )
    )

    assert [r.status for r in responses] == [200] * 50
    infos = [await client.info(e.token) for e in (ann, ben)]
    assert [i.coins for i in infos if i is not None] == [1000, 1000]


async def test_300_random_transfers_among_10_employees_conserve_coins(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection, database_url: str
) -> None:
    team = [await make_employee() for _ in range(10)]
    rng = random.Random(2025)
    pairs = [tuple(rng.sample(team, 2)) for _ in range(300)]

    amounts = [rng.randint(1, 400) for _ in pairs]
    responses = await asyncio.gather(
        *(
            client.http.post(
                "/api/sendCoin",
                json={"toUser": receiver.username, "amount": amount},
                headers=bearer(sender.token),
            )
            for (sender, receiver), amount in zip(pairs, amounts, strict=True)
        )
    )

    statuses = [r.status for r in responses]
    assert set(statuses) <= {200, 400}
    for response, amount in zip(responses, amounts, strict=True):
        if response.status == 400:  # only ever for want of coins, and it says so
            error = (await response.json())["errors"]
            refused = re.fullmatch(r"not enough coins: balance (\d+), amount (\d+)", error)
            assert refused is not None, error
            assert int(refused[1]) < amount == int(refused[2]), error
    assert statuses.count(200) > 100
    assert await db.fetchval("SELECT sum(balance) FROM users") == 10_000
    assert await db.fetchval("SELECT min(balance) FROM users") >= 0
    assert await db.fetchval("SELECT count(*) FROM transfers") == statuses.count(200)
    audit = await run_shop("audit", env={"DATABASE_URL": database_url})
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "OK every coin is accounted for" in audit.stdout
