"""Coin transfers between employees and the wallet view."""

from __future__ import annotations

import asyncpg

from shop.db import run_serializable
from shop.errors import (
    InsufficientFundsError,
    SelfTransferError,
    UnauthorizedError,
    UnknownRecipientError,
)
from shop.repositories import transfers, users, wallets
from shop.repositories.outcome import Outcome
from shop.security import Claims


def require_applied(outcome: Outcome, needed: int, what: str) -> None:
    """Turn a conditional debit that did not happen into the reason why."""
    if outcome.balance is None:
        raise UnauthorizedError("employee no longer exists")
    if not outcome.applied:
        raise InsufficientFundsError(outcome.balance, needed, what)


async def send_coins(
    conn: asyncpg.Connection, sender: Claims, to_user: str, amount: int, *, attempts: int
) -> None:
    """Move `amount` coins from the caller to `to_user`, all or nothing."""
    if to_user == sender.username:
        raise SelfTransferError
    receiver_id = await users.find_id(conn, to_user)
    if receiver_id is None:
        raise UnknownRecipientError(to_user)

    async def work(tx: asyncpg.Connection) -> None:
        outcome = await transfers.transfer(tx, sender.user_id, sender.username, receiver_id, amount)
        require_applied(outcome, amount, "amount")

    async with users.locked(conn, sender.user_id, receiver_id):
        await run_serializable(conn, work, attempts=attempts)


async def account_info(conn: asyncpg.Connection, caller: Claims) -> str:
    """The caller's coins, inventory and grouped history, as the JSON body of /api/info."""
    body = await wallets.wallet_json(conn, caller.user_id, caller.username)
    if body is None:
        raise UnauthorizedError("employee no longer exists")
    return body
