"""A new connection's first run of the /api/info read, before a request needs it.

A new PostgreSQL backend compiles a plpgsql function and plans its statement on the first
call, and asyncpg prepares a statement on its first use: the first /api/info on a fresh
connection costs several times what it costs afterwards. A worker's pool has a fixed size:
it opens all its connections at start, and a fresh one whenever asyncpg replaces a closed
connection, so without this the first requests served by each would pay that cost. Running
the read once as the connection opens moves it out of the requests. Its arguments
match no employee (ids start at 1), so it reads no row. The write procedures are left cold
on purpose: their first statement waits for the write gate, and a connection being opened
for a read must not wait behind the writes (migrations/0011).
"""

from __future__ import annotations

from shop.db.connections import Connection
from shop.repositories import wallet

NOBODY = 0
"""No employee has this id."""


async def warm_up(conn: Connection) -> None:
    """Prepare and run the wallet read once; it finds nobody and changes nothing."""
    await wallet.wallet_json(conn, NOBODY, "", None)
