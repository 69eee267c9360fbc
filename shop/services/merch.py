"""Merch: the catalog on offer, and buying from it."""

from __future__ import annotations

import functools

from shop.auth.tokens import Claims
from shop.catalog import PRICES, price_of
from shop.db.request_connection import RequestConnection
from shop.db.retry import retry_serializable
from shop.models import CatalogItem, ItemsResponse
from shop.repositories import purchases
from shop.services.wallet import require_applied


@functools.cache
def catalog_json() -> str:
    """The /api/items body: every item of the one catalog, in its order. It never changes."""
    items = [CatalogItem(name=name, price=price) for name, price in PRICES.items()]
    return ItemsResponse(items=items).model_dump_json()


async def buy(connection: RequestConnection, *, buyer: Claims, item: str, attempts: int) -> None:
    """Debit the item's price and add one to the buyer's inventory, all or nothing."""
    price = price_of(item)  # an unknown item is refused before a pooled connection is taken
    conn = await connection.get()
    outcome = await retry_serializable(
        lambda: purchases.purchase(conn, buyer=buyer, item=item, price=price),
        attempts=attempts,
    )
    require_applied(outcome, price, "price")
