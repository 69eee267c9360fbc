"""The read side of /api/history: one employee's ledger rows, newest first, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shop.db.connections import Connection

NEWEST = 2**63 - 1
"""Above every `seq`: the bound of the first page."""

# One page of the caller's movements in `seq` order (migration 0010 says why `seq`, and why
# paging by it is exact while new movements arrive). Each of the four branches (sent,
# received, purchases, grants) walks its own index backwards from the cursor and stops after $4
# rows; the outer LIMIT merges them. So a page reads at most 4 * $4 index entries, whatever
# the length of the history, and sorts nothing but those. Counterparties' names are looked
# up by primary key for the rows of the page only (a subquery, so never a join over users).
#
# The caller's row comes first (id and name, both from the token), joined LEFT to the page:
# no row at all means the employee does not exist; one row with NULLs, an empty page.
PAGE = """
SELECT m.kind, m.id, m.seq,
       (SELECT c.username FROM users c WHERE c.id = m.other) AS counterparty,
       m.item, m.amount, m.created_at, m.message, m.reason
FROM users me
LEFT JOIN LATERAL (
    (SELECT 'sent' AS kind, t.id, t.seq, t.receiver_id AS other, NULL::text AS item,
            t.amount, t.created_at, t.message, NULL::text AS reason
     FROM transfers t WHERE t.sender_id = me.id AND t.seq < $3
     ORDER BY t.seq DESC LIMIT $4)
    UNION ALL
    (SELECT 'received', t.id, t.seq, t.sender_id, NULL, t.amount, t.created_at, t.message,
            NULL
     FROM transfers t WHERE t.receiver_id = me.id AND t.seq < $3
     ORDER BY t.seq DESC LIMIT $4)
    UNION ALL
    (SELECT 'purchase', p.id, p.seq, NULL, p.item, p.price, p.created_at, NULL, NULL
     FROM purchases p WHERE p.user_id = me.id AND p.seq < $3
     ORDER BY p.seq DESC LIMIT $4)
    UNION ALL
    (SELECT 'grant', c.grant_id, c.seq, NULL, NULL, g.amount, c.created_at, NULL, g.reason
     FROM grant_credits c JOIN grants g ON g.id = c.grant_id
     WHERE c.user_id = me.id AND c.seq < $3
     ORDER BY c.seq DESC LIMIT $4)
    ORDER BY seq DESC LIMIT $4
) m ON true
WHERE me.id = $1 AND me.username = $2
ORDER BY m.seq DESC
"""


@dataclass(frozen=True, slots=True)
class Movement:
    """One ledger row as the employee sees it."""

    kind: Literal["sent", "received", "purchase", "grant"]
    id: int  # the row's id in its own table (transfers or purchases; a grant's id)
    seq: int  # its place in the ledger's one order
    counterparty: str | None
    item: str | None
    amount: int
    created_at: datetime
    message: str | None  # a transfer's, seen by its sender and receiver only
    reason: str | None  # a grant's


async def page(
    conn: Connection, user_id: int, username: str, before: int, limit: int
) -> list[Movement] | None:
    """Up to `limit` movements with `seq` below `before`, newest first; None: no such employee."""
    rows = await conn.fetch(PAGE, user_id, username, before, limit)
    if not rows:
        return None
    return [Movement(*row) for row in rows if row["seq"] is not None]
