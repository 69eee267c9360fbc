"""Buying merch."""

from __future__ import annotations

import asyncpg

from shop.catalog import price_of
from shop.db import run_serializable
from shop.repositories import purchases, users
from shop.security import Claims
from shop.services.wallet import require_applied


async def buy(conn: asyncpg.Connection, buyer: Claims, item: str, *, attempts: int) -> None:
    """Debit the item's price and add one to the buyer's inventory, all or nothing."""
    price = price_of(item)

    async def work(tx: asyncpg.Connection) -> None:
        outcome = await purchases.purchase(tx, buyer.user_id, buyer.username, item, price)
        require_applied(outcome, price, "price")

    async with users.locked(conn, buyer.user_id):
        await run_serializable(conn, work, attempts=attempts)
