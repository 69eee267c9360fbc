"""The wallet: coin transfers between employees and the /api/info view of one's coins."""

from __future__ import annotations

from shop.auth.tokens import Claims
from shop.db.request_connection import RequestConnection
from shop.db.retry import retry_serializable
from shop.errors import (
    InsufficientFundsError,
    SelfTransferError,
    UnauthorizedError,
    UnknownRecipientError,
)
from shop.repositories import transfers, wallet
from shop.repositories.outcome import Outcome
from shop.services.wallet_cache import WalletCache


def require_applied(outcome: Outcome, needed: int, what: str) -> None:
    """Turn a conditional debit that did not happen into the reason why."""
    if outcome.balance is None:
        raise UnauthorizedError("employee no longer exists")
    if not outcome.applied:
        raise InsufficientFundsError(outcome.balance, needed, what)


async def send_coins(
    connection: RequestConnection, *, sender: Claims, to_user: str, amount: int, attempts: int
) -> None:
    """Move `amount` coins from the caller to `to_user`, all or nothing."""
    if to_user == sender.username:  # refused before a pooled connection is taken
        raise SelfTransferError
    conn = await connection.get()
    outcome = await retry_serializable(
        lambda: transfers.transfer(conn, sender=sender, receiver_name=to_user, amount=amount),
        attempts=attempts,
    )
    if not outcome.receiver_found:
        raise UnknownRecipientError(to_user)
    require_applied(outcome, amount, "amount")


async def account_info(connection: RequestConnection, caller: Claims, cache: WalletCache) -> str:
    """The caller's coins, inventory and grouped history, as the JSON body of /api/info."""
    held = cache.held(caller.user_id)
    found = await wallet.wallet_json(
        await connection.get(),
        caller.user_id,
        caller.username,
        None if held is None else held[0],
    )
    if found is None:
        raise UnauthorizedError("employee no longer exists")
    if found.body is not None:
        cache.keep(caller.user_id, found.version, found.body)
        return found.body
    if held is None:  # cannot happen: a body is withheld only against a held version
        raise RuntimeError("wallet body withheld without a held copy")
    cache.reused()
    return held[1]
