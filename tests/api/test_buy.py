"""GET /api/buy/{item}: prices, inventory grouping, running out of money, races."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shop.catalog import PRICES
from shop.models import ItemsResponse
from tests.api.conftest import MakeEmployee
from tests.contract import ASSIGNMENT_PRICES
from tests.helpers import ShopClient, expect


async def test_the_listed_catalog_is_the_assignments(client: ShopClient) -> None:
    listed = ItemsResponse.model_validate(await expect(await client.http.get("/api/items"), 200))

    assert {item.name: item.price for item in listed.items} == ASSIGNMENT_PRICES


@pytest.mark.parametrize(("item", "price"), sorted(ASSIGNMENT_PRICES.items()))
async def test_buying_an_item_debits_its_price_and_adds_it_to_inventory(
    client: ShopClient, make_employee: MakeEmployee, item: str, price: int
) -> None:
    employee = await make_employee()

    await client.buy(employee.token, item)

    info = await client.info(employee.token)
    assert info is not None
    assert info.coins == 1000 - price
    assert [(i.type, i.quantity) for i in info.inventory] == [(item, 1)]


async def test_every_item_once_then_inventory_is_grouped_by_type(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    employee = await make_employee()
    basket = ["pen", "socks", "pen", "cup", "book", "pen", "wallet", "socks"]

    for item in basket:
        await client.buy(employee.token, item)

    info = await client.info(employee.token)
    assert info is not None
    assert info.coins == 1000 - sum(PRICES[i] for i in basket)
    assert {i.type: i.quantity for i in info.inventory} == {
        "book": 1,
        "cup": 1,
        "pen": 3,
        "socks": 2,
        "wallet": 1,
    }


async def test_buying_until_the_money_runs_out(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    employee = await make_employee()

    for _ in range(12):
        await client.buy(employee.token, "t-shirt")
    error = await client.buy(employee.token, "t-shirt", expected_status=400)
    assert error == {"errors": "not enough coins: balance 40, price 80"}
    await client.buy(employee.token, "pink-hoody", expected_status=400)
    for _ in range(4):
        await client.buy(employee.token, "pen")
    await client.buy(employee.token, "pen", expected_status=400)

    info = await client.info(employee.token)
    assert info is not None
    assert info.coins == 0
    assert {i.type: i.quantity for i in info.inventory} == {"t-shirt": 12, "pen": 4}


async def test_failed_purchase_leaves_no_trace(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    employee = await make_employee()
    await client.buy(employee.token, "pink-hoody")
    await client.buy(employee.token, "pink-hoody")

    await client.buy(employee.token, "pen", expected_status=400)

    assert await db.fetchval("SELECT count(*) FROM purchases") == 2
    assert await db.fetchval("SELECT quantity FROM inventory WHERE item = 'pink-hoody'") == 2
    assert await db.fetchval("SELECT count(*) FROM inventory") == 1


async def test_40_simultaneous_t_shirt_purchases_give_exactly_12(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    employee = await make_employee()

    responses = await asyncio.gather(
        *(
            client.http.get(
                "/api/buy/t-shirt", headers={"Authorization": f"Bearer {employee.token}"}
            )
            for _ in range(40)
        )
    )

    statuses = sorted(r.status for r in responses)
    assert statuses == [200] * 12 + [400] * 28
    refusals = [await r.json() for r in responses if r.status == 400]
    # Only the twelfth purchase takes the balance below a price: every refusal sees 40.
    assert refusals == [{"errors": "not enough coins: balance 40, price 80"}] * 28
    info = await client.info(employee.token)
    assert info is not None
    assert info.coins == 40
    assert [(i.type, i.quantity) for i in info.inventory] == [("t-shirt", 12)]
