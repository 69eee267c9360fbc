"""Buying merch."""

from __future__ import annotations

from shop.auth.tokens import Claims
from shop.catalog import price_of
from shop.db.request_connection import RequestConnection
from shop.db.retry import retry_serializable
from shop.repositories import purchases
from shop.services.wallet import require_applied


async def buy(connection: RequestConnection, *, buyer: Claims, item: str, attempts: int) -> None:
    """Debit the item's price and add one to the buyer's inventory, all or nothing."""
    price = price_of(item)  # an unknown item is refused before a pooled connection is taken
    conn = await connection.get()
    outcome = await retry_serializable(
        lambda: purchases.purchase(conn, buyer=buyer, item=item, price=price),
        attempts=attempts,
    )
    require_applied(outcome, price, "price")
