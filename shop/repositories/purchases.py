"""Merch purchases: the ledger row, the buyer's balance and the inventory count."""

from __future__ import annotations

import asyncpg

from shop.repositories.outcome import Outcome

PURCHASE = """
WITH debit AS (
    UPDATE users SET balance = balance - $3
    WHERE id = $1 AND username = $4 AND balance >= $3
    RETURNING id
), entry AS (
    INSERT INTO purchases (user_id, item, price)
    SELECT id, $2, $3 FROM debit
    RETURNING user_id, item
), stock AS (
    INSERT INTO inventory (user_id, item, quantity)
    SELECT user_id, item, 1 FROM entry
    ON CONFLICT (user_id, item) DO UPDATE SET quantity = inventory.quantity + 1
)
SELECT (SELECT balance FROM users WHERE id = $1 AND username = $4) AS balance,
       EXISTS (SELECT FROM entry) AS applied
"""


async def purchase(
    conn: asyncpg.Connection, user_id: int, username: str, item: str, price: int
) -> Outcome:
    row = await conn.fetchrow(PURCHASE, user_id, item, price, username)
    return Outcome(balance=row["balance"], applied=row["applied"])
