"""Merch: the catalog on offer, and buying from it."""

from __future__ import annotations

import functools

from shop import idempotency
from shop.auth.tokens import Claims
from shop.catalog import PRICES, price_of
from shop.db.connections import Connection
from shop.db.request_connection import RequestConnection
from shop.db.retry import retry_serializable
from shop.db.write_procedures import require_applied
from shop.idempotency import SENT, Answer
from shop.models import CatalogItem, ItemsResponse
from shop.repositories import purchases


@functools.cache
def catalog_json() -> str:
    """The /api/items body: every item of the one catalog, in its order. It never changes."""
    items = [CatalogItem(name=name, price=price) for name, price in PRICES.items()]
    return ItemsResponse(items=items).model_dump_json()


async def buy(
    connection: RequestConnection,
    *,
    buyer: Claims,
    item: str,
    attempts: int,
    key: str | None = None,
) -> Answer:
    """Debit the item's price and add one to the buyer's inventory, all or nothing.

    With an Idempotency-Key, at most once for that key (shop/idempotency.py).
    """
    price = price_of(item)  # an unknown item is refused before a pooled connection is taken
    conn = await connection.get()
    if key is not None:

        async def work(conn: Connection) -> Answer:
            outcome = await purchases.purchase_in_transaction(
                conn, buyer=buyer, item=item, price=price
            )
            require_applied(outcome, price, "price")
            return SENT

        return await idempotency.run_once(
            conn,
            caller_id=buyer.user_id,
            key=key,
            fingerprint=idempotency.fingerprint("buy", {"item": item}),
            work=work,
            attempts=attempts,
        )
    outcome = await retry_serializable(
        lambda: purchases.purchase(conn, buyer=buyer, item=item, price=price),
        attempts=attempts,
    )
    require_applied(outcome, price, "price")
    return SENT
