"""Read-only checks that the balances, the aggregates and the ledger agree."""

from __future__ import annotations

import asyncpg

from shop.db.connections import Connection

# Balances recomputed from the ledger alone: start + granted - sent + received - spent.
# (Refunds of cancelled orders join here as one more CTE, added like `granted`.)
BALANCE_MISMATCHES = """
WITH granted AS (SELECT c.user_id AS id, sum(g.amount) AS amount
                 FROM grant_credits c JOIN grants g ON g.id = c.grant_id GROUP BY c.user_id),
     sent AS (SELECT sender_id AS id, sum(amount) AS amount FROM transfers GROUP BY sender_id),
     received AS (SELECT receiver_id AS id, sum(amount) AS amount FROM transfers
                  GROUP BY receiver_id),
     spent AS (SELECT user_id AS id, sum(price) AS amount FROM purchases GROUP BY user_id),
     expected AS (
        SELECT u.username, u.balance,
               $1 + COALESCE(g.amount, 0) - COALESCE(s.amount, 0) + COALESCE(r.amount, 0)
                   - COALESCE(p.amount, 0) AS expected
        FROM users u
        LEFT JOIN granted g ON g.id = u.id
        LEFT JOIN sent s ON s.id = u.id
        LEFT JOIN received r ON r.id = u.id
        LEFT JOIN spent p ON p.id = u.id)
SELECT username, balance, expected FROM expected
WHERE balance <> expected OR balance < 0
ORDER BY username
"""

TRANSFER_TOTAL_MISMATCHES = """
WITH ledger AS (SELECT sender_id, receiver_id, sum(amount) AS amount FROM transfers
                GROUP BY sender_id, receiver_id)
SELECT COALESCE(l.sender_id, t.sender_id) AS sender_id,
       COALESCE(l.receiver_id, t.receiver_id) AS receiver_id,
       l.amount AS ledger, t.amount AS aggregate
FROM ledger l FULL JOIN transfer_totals t USING (sender_id, receiver_id)
WHERE l.amount IS DISTINCT FROM t.amount
ORDER BY 1, 2
"""

INVENTORY_MISMATCHES = """
WITH ledger AS (SELECT user_id, item, count(*) AS quantity FROM purchases GROUP BY user_id, item)
SELECT COALESCE(l.user_id, i.user_id) AS user_id, COALESCE(l.item, i.item) AS item,
       l.quantity AS ledger, i.quantity AS aggregate
FROM ledger l FULL JOIN inventory i USING (user_id, item)
WHERE l.quantity IS DISTINCT FROM i.quantity
ORDER BY 1, 2
"""

TOTALS = """
SELECT (SELECT count(*) FROM users) AS employees,
       (SELECT COALESCE(sum(balance), 0) FROM users) AS balances,
       (SELECT COALESCE(sum(price), 0) FROM purchases) AS spent,
       (SELECT COALESCE(sum(g.amount), 0) FROM grant_credits c JOIN grants g ON g.id = c.grant_id)
           AS granted,
       (SELECT count(*) FROM grant_credits) AS credits,
       (SELECT count(*) FROM transfers) AS transfers,
       (SELECT count(*) FROM purchases) AS purchases
"""


async def balance_mismatches(conn: Connection, start: int) -> list[asyncpg.Record]:
    return await conn.fetch(BALANCE_MISMATCHES, start)


async def transfer_total_mismatches(conn: Connection) -> list[asyncpg.Record]:
    return await conn.fetch(TRANSFER_TOTAL_MISMATCHES)


async def inventory_mismatches(conn: Connection) -> list[asyncpg.Record]:
    return await conn.fetch(INVENTORY_MISMATCHES)


async def totals(conn: Connection) -> asyncpg.Record:
    row = await conn.fetchrow(TOTALS)
    if row is None:  # pragma: no cover - aggregates without GROUP BY return one row
        raise RuntimeError("the audit totals returned no row")
    return row
