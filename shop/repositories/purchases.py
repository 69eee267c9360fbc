"""Merch purchases: the buy_item procedure (see docs/reliability.md, "The write path")."""

from __future__ import annotations

import asyncpg

from shop.auth.tokens import Claims
from shop.repositories import procedures
from shop.repositories.outcome import Outcome

PURCHASE = "CALL buy_item($1, $2, $3, $4)"


async def purchase(conn: asyncpg.Connection, *, buyer: Claims, item: str, price: int) -> Outcome:
    """Debit and stock up in one SERIALIZABLE transaction run by the procedure; one round trip."""
    row = await procedures.call(conn, PURCHASE, buyer.user_id, buyer.username, item, price)
    return Outcome(balance=row["balance"], applied=row["applied"])
