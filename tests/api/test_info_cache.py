"""/api/info re-sends a worker's copy of the body only while the wallet is unchanged."""

from __future__ import annotations

import asyncpg

from tests.api.conftest import MakeEmployee
from tests.helpers import ShopClient, sample

REUSED = {"source": "reused"}
RENDERED = {"source": "rendered"}


async def info_bodies(client: ShopClient, **labels: str) -> float:
    exposition = await (await client.http.get("/metrics")).text()
    return sample(exposition, "shop_info_bodies_total", **labels)


async def test_an_unchanged_wallet_is_sent_from_the_copy_and_is_identical(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    ann = await make_employee()
    await client.buy(ann.token, "pen")
    reused_before = await info_bodies(client, **REUSED)

    first = await client.info(ann.token)
    second = await client.info(ann.token)

    assert first == second
    assert await info_bodies(client, **REUSED) - reused_before == 1


async def test_an_incoming_transfer_after_a_read_shows_at_once(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    ann = await make_employee(username="ann")
    ben = await make_employee(username="ben")
    await client.info(ben.token)

    await client.send_coin(ann.token, "ben", 10)
    info = await client.info(ben.token)

    assert info is not None
    assert info.coins == 1010
    assert info.model_dump(by_alias=True)["coinHistory"]["received"] == [
        {"fromUser": "ann", "amount": 10}
    ]


async def test_a_purchase_and_a_sent_transfer_after_a_read_show_at_once(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    ann = await make_employee(username="ann")
    await make_employee(username="ben")
    await client.info(ann.token)

    await client.buy(ann.token, "cup")
    after_buy = await client.info(ann.token)
    await client.send_coin(ann.token, "ben", 5)
    after_send = await client.info(ann.token)

    assert after_buy is not None
    assert after_send is not None
    assert (after_buy.coins, after_send.coins) == (980, 975)
    assert after_buy.model_dump(by_alias=True)["inventory"] == [{"type": "cup", "quantity": 1}]
    assert after_send.model_dump(by_alias=True)["coinHistory"]["sent"] == [
        {"toUser": "ben", "amount": 5}
    ]


async def test_a_change_made_outside_the_service_is_never_hidden_by_the_copy(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    ann = await make_employee(username="ann")
    await client.info(ann.token)
    rendered_before = await info_bodies(client, **RENDERED)

    await db.execute("UPDATE users SET balance = 7 WHERE username = 'ann'")
    info = await client.info(ann.token)

    assert info is not None
    assert info.coins == 7
    assert await info_bodies(client, **RENDERED) - rendered_before == 1


async def test_freezing_keeps_the_version_so_a_copy_stays_valid_and_exact(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    """The version is the row's raw xmin, which VACUUM FREEZE keeps (PostgreSQL 9.4+)."""
    ann = await make_employee(username="ann")
    before = await client.info(ann.token)
    version = await db.fetchval("SELECT xmin::text FROM users WHERE username = 'ann'")
    reused_before = await info_bodies(client, **REUSED)

    await db.execute("VACUUM (FREEZE) users")
    after = await client.info(ann.token)

    assert await db.fetchval("SELECT xmin::text FROM users WHERE username = 'ann'") == version
    assert after == before
    assert await info_bodies(client, **REUSED) - reused_before == 1
