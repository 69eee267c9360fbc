"""Merch purchases: the buy_item procedure (migrations/0005_write_procedures.sql)."""

from __future__ import annotations

import asyncpg

from shop.repositories import procedures
from shop.repositories.outcome import Outcome

PURCHASE = "CALL buy_item($1, $2, $3, $4)"


async def purchase(
    conn: asyncpg.Connection, user_id: int, username: str, item: str, price: int
) -> Outcome:
    """Debit and stock up in one SERIALIZABLE transaction run by the procedure; one round trip."""
    row = await procedures.call(conn, PURCHASE, user_id, username, item, price)
    return Outcome(balance=row["balance"], applied=row["applied"])
