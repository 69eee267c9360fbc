"""The read side of /api/info: balance, inventory and grouped history in one statement."""

from __future__ import annotations

from typing import NamedTuple

from shop.db.connections import Connection

# The statement and why it is one: migrations/0012_wallet_read_function.sql.
WALLET_JSON = "SELECT version, body FROM wallet_json($1, $2, $3)"


class Wallet(NamedTuple):
    """A wallet's version, and its /api/info body unless the caller already holds it."""

    version: int
    body: str | None


async def wallet_json(
    conn: Connection, user_id: int, username: str, known_version: int | None = None
) -> Wallet | None:
    """The /api/info body as JSON text; None when no such employee exists.

    With `known_version` equal to the current one, the body comes back as None: the caller's
    copy is still exact.
    """
    row = await conn.fetchrow(WALLET_JSON, user_id, username, known_version)
    return None if row is None else Wallet(row[0], row[1])
