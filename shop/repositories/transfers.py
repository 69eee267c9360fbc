"""Coin transfers: the transfer_coins procedure (see docs/reliability.md, "The write path")."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from shop.auth.tokens import Claims
from shop.db import write_procedures
from shop.db.connections import Connection
from shop.db.write_procedures import Outcome

TRANSFER = "CALL transfer_coins($1, $2, $3, $4, $5)"
TRANSFER_IN_TRANSACTION = "SELECT * FROM transfer_in_transaction($1, $2, $3, $4, $5)"


@dataclass(frozen=True, slots=True)
class TransferOutcome(Outcome):
    """Also whether the receiver exists (and is not the sender); if not, nothing was tried."""

    receiver_found: bool


async def transfer(
    conn: Connection,
    *,
    sender: Claims,
    receiver_name: str,
    amount: int,
    message: str | None = None,
) -> TransferOutcome:
    """Move the coins in one SERIALIZABLE transaction run by the procedure; one round trip."""
    row = await write_procedures.call(
        conn, TRANSFER, sender.user_id, sender.username, receiver_name, amount, message
    )
    return _outcome(row)


async def transfer_in_transaction(
    conn: Connection,
    *,
    sender: Claims,
    receiver_name: str,
    amount: int,
    message: str | None = None,
) -> TransferOutcome:
    """The same move inside the caller's SERIALIZABLE transaction (write_gate already taken).

    Raises 40001 when another writer holds the accounts: run the transaction again behind it.
    """
    row = await conn.fetchrow(
        TRANSFER_IN_TRANSACTION, sender.user_id, sender.username, receiver_name, amount, message
    )
    if row is None:  # pragma: no cover - one row, always
        raise RuntimeError("transfer_in_transaction returned no row")
    return _outcome(row)


def _outcome(row: asyncpg.Record) -> TransferOutcome:
    """What the procedure and the function both return, read the same way."""
    return TransferOutcome(
        balance=row["balance"],
        applied=row["applied"],
        receiver_found=row["receiver"] is not None,
    )
