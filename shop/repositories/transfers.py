"""Coin transfers: the ledger row, both balances and the per-pair running total."""

from __future__ import annotations

import asyncpg

from shop.repositories.outcome import Outcome

# One statement: debit only if the sender (id and name from the token) can pay, credit only if
# the debit happened, then append to the ledger and bump the pair's total. The outer SELECT
# reads the snapshot before the update, so it reports the balance the decision was made on.
TRANSFER = """
WITH debit AS (
    UPDATE users SET balance = balance - $3
    WHERE id = $1 AND username = $4 AND balance >= $3
    RETURNING id
), credit AS (
    UPDATE users SET balance = balance + $3
    WHERE id = $2 AND EXISTS (SELECT FROM debit)
    RETURNING id
), entry AS (
    INSERT INTO transfers (sender_id, receiver_id, amount)
    SELECT $1, $2, $3 FROM credit
    RETURNING sender_id, receiver_id, amount
), total AS (
    INSERT INTO transfer_totals (sender_id, receiver_id, amount)
    SELECT sender_id, receiver_id, amount FROM entry
    ON CONFLICT (sender_id, receiver_id)
    DO UPDATE SET amount = transfer_totals.amount + EXCLUDED.amount
)
SELECT (SELECT balance FROM users WHERE id = $1 AND username = $4) AS balance,
       EXISTS (SELECT FROM entry) AS applied
"""


async def transfer(
    conn: asyncpg.Connection, sender_id: int, sender_name: str, receiver_id: int, amount: int
) -> Outcome:
    row = await conn.fetchrow(TRANSFER, sender_id, receiver_id, amount, sender_name)
    return Outcome(balance=row["balance"], applied=row["applied"])
