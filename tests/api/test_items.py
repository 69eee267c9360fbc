"""GET /api/items: the one catalog, public, in a stable order."""

from __future__ import annotations

import pytest

from shop.catalog import PRICES
from shop.models import ItemsResponse
from tests.helpers import ShopClient, bearer, expect


async def test_catalog_lists_every_item_with_its_price_in_the_catalogs_order(
    client: ShopClient,
) -> None:
    response = await client.http.get("/api/items")

    body = ItemsResponse.model_validate(await expect(response, 200))
    assert [(item.name, item.price) for item in body.items] == list(PRICES.items())
    assert body.items[0].name == "t-shirt"  # the catalog's first, not the cheapest or by name


async def test_catalog_is_the_same_on_every_call_and_with_or_without_a_token(
    client: ShopClient,
) -> None:
    token = await client.auth("iris", "iris-password")

    first = await (await client.http.get("/api/items")).read()
    second = await (await client.http.get("/api/items", headers=bearer(token))).read()

    assert first == second


async def test_every_listed_item_can_be_bought_at_the_listed_price(client: ShopClient) -> None:
    token = await client.auth("jack", "jack-password")
    body = ItemsResponse.model_validate(await expect(await client.http.get("/api/items"), 200))

    cheap = [item for item in body.items if item.price <= 50]
    for item in cheap:
        await client.buy(token, item.name)

    info = await client.info(token)
    assert info is not None
    assert info.coins == 1000 - sum(item.price for item in cheap)


@pytest.mark.parametrize("query", ["?limit=5", "?sort=price", "?x"])
async def test_catalog_refuses_query_parameters_it_does_not_take(
    client: ShopClient, query: str
) -> None:
    response = await client.http.get("/api/items" + query)

    body = await expect(response, 400)
    assert "not permitted" in body["errors"]
