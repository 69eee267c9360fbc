"""The read side of /api/info: balance, inventory and grouped history in one statement."""

from __future__ import annotations

import asyncpg

# One statement is one snapshot, so coins, inventory and history always agree. It reads only
# the running aggregates: one row per item type and per counterparty, whatever the history.
# PostgreSQL renders the JSON, so the body goes to the client without a Python round-trip.
WALLET_JSON = """
SELECT json_build_object(
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
)::text
FROM users u
WHERE u.id = $1 AND u.username = $2
"""


async def wallet_json(conn: asyncpg.Connection, user_id: int, username: str) -> str | None:
    """The /api/info body as JSON text; None when no such employee exists."""
    return await conn.fetchval(WALLET_JSON, user_id, username)
