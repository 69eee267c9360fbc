"""Coin transfers: the transfer_coins procedure (see docs/reliability.md, "The write path")."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from shop.auth.tokens import Claims
from shop.repositories import procedures
from shop.repositories.outcome import Outcome

TRANSFER = "CALL transfer_coins($1, $2, $3, $4)"


@dataclass(frozen=True, slots=True)
class TransferOutcome(Outcome):
    """Also whether the receiver exists (and is not the sender); if not, nothing was tried."""

    receiver_found: bool


async def transfer(
    conn: asyncpg.Connection, *, sender: Claims, receiver_name: str, amount: int
) -> TransferOutcome:
    """Move the coins in one SERIALIZABLE transaction run by the procedure; one round trip."""
    row = await procedures.call(
        conn, TRANSFER, sender.user_id, sender.username, receiver_name, amount
    )
    return TransferOutcome(
        balance=row["balance"],
        applied=row["applied"],
        receiver_found=row["receiver"] is not None,
    )
