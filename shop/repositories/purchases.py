"""Merch purchases: the buy_item procedure (see docs/reliability.md, "The write path")."""

from __future__ import annotations

from shop.auth.tokens import Claims
from shop.db import write_procedures
from shop.db.connections import Connection
from shop.db.write_procedures import Outcome

PURCHASE = "CALL buy_item($1, $2, $3, $4)"
PURCHASE_IN_TRANSACTION = "SELECT * FROM purchase_in_transaction($1, $2, $3, $4)"


async def purchase(conn: Connection, *, buyer: Claims, item: str, price: int) -> Outcome:
    """Debit and stock up in one SERIALIZABLE transaction run by the procedure; one round trip."""
    row = await write_procedures.call(conn, PURCHASE, buyer.user_id, buyer.username, item, price)
    return Outcome(balance=row["balance"], applied=row["applied"])


async def purchase_in_transaction(
    conn: Connection, *, buyer: Claims, item: str, price: int
) -> Outcome:
    """The same purchase inside the caller's SERIALIZABLE transaction (write_gate taken).

    Raises 40001 when another writer holds the account: run the transaction again behind it.
    """
    row = await conn.fetchrow(PURCHASE_IN_TRANSACTION, buyer.user_id, buyer.username, item, price)
    if row is None:  # pragma: no cover - one row, always
        raise RuntimeError("purchase_in_transaction returned no row")
    return Outcome(balance=row["balance"], applied=row["applied"])
