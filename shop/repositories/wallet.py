"""The read side of /api/info: balance, inventory and grouped history in one statement."""

from __future__ import annotations

from typing import NamedTuple

import asyncpg

# One statement is one snapshot, so coins, inventory and history always agree. It reads only
# the running aggregates: one row per item type and per counterparty, whatever the history.
# PostgreSQL renders the JSON, so the body goes to the client without a Python round-trip.
#
# The version is the employee row's xmin: the transaction that last wrote it. Everything this
# view shows changes only together with that row (a purchase debits it, a transfer debits or
# credits it, in the same transaction), and counterparties' names never change. So a caller
# that already holds the body for this version gets NULL instead, and PostgreSQL skips the
# rendering: the subqueries inside CASE run only when their branch is taken.
WALLET_JSON = """
SELECT v.version,
       CASE WHEN v.version = $3 THEN NULL ELSE json_build_object(
    'coins', u.balance,
    'inventory', COALESCE((
        SELECT json_agg(json_build_object('type', i.item, 'quantity', i.quantity)
                        ORDER BY i.item)
        FROM inventory i WHERE i.user_id = u.id), '[]'),
    'coinHistory', json_build_object(
        'received', COALESCE((
            SELECT json_agg(json_build_object('fromUser', s.username, 'amount', t.amount)
                            ORDER BY s.username)
            FROM transfer_totals t JOIN users s ON s.id = t.sender_id
            WHERE t.receiver_id = u.id), '[]'),
        'sent', COALESCE((
            SELECT json_agg(json_build_object('toUser', r.username, 'amount', t.amount)
                            ORDER BY r.username)
            FROM transfer_totals t JOIN users r ON r.id = t.receiver_id
            WHERE t.sender_id = u.id), '[]')
    )
)::text END
FROM users u, LATERAL (SELECT u.xmin::text::bigint AS version) v
WHERE u.id = $1 AND u.username = $2
"""


class Wallet(NamedTuple):
    """A wallet's version, and its /api/info body unless the caller already holds it."""

    version: int
    body: str | None


async def wallet_json(
    conn: asyncpg.Connection, user_id: int, username: str, known_version: int | None = None
) -> Wallet | None:
    """The /api/info body as JSON text; None when no such employee exists.

    With `known_version` equal to the current one, the body comes back as None: the caller's
    copy is still exact.
    """
    row = await conn.fetchrow(WALLET_JSON, user_id, username, known_version)
    return None if row is None else Wallet(row[0], row[1])
