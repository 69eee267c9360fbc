"""The wallet: coin transfers between employees, and the views of one's coins: /api/info
(grouped) and /api/history (every movement, page by page)."""

from __future__ import annotations

import time

from shop import idempotency
from shop.auth.tokens import Claims
from shop.db.connections import Connection
from shop.db.request_connection import RequestConnection
from shop.db.retry import retry_serializable
from shop.db.write_procedures import require_applied
from shop.errors import (
    SelfTransferError,
    UnauthorizedError,
    UnknownRecipientError,
)
from shop.idempotency import SENT, Answer
from shop.models import HistoryEntry, HistoryQuery, HistoryResponse, encode_cursor
from shop.observability import metrics
from shop.repositories import history, transfers, wallet


async def send_coins(
    connection: RequestConnection,
    *,
    sender: Claims,
    to_user: str,
    amount: int,
    attempts: int,
    key: str | None = None,
    message: str | None = None,
) -> Answer:
    """Move `amount` coins from the caller to `to_user`, all or nothing, with an optional
    message that only the two of them see (an empty one is none).

    With an Idempotency-Key, at most once for that key (shop/idempotency.py).
    """
    message = message or None
    if to_user == sender.username:  # refused before a pooled connection is taken
        raise SelfTransferError
    conn = await connection.get()
    if key is not None:

        async def work(conn: Connection) -> Answer:
            outcome = await transfers.transfer_in_transaction(
                conn, sender=sender, receiver_name=to_user, amount=amount, message=message
            )
            transfer_applied(outcome, to_user, amount)
            return SENT

        request: dict[str, object] = {"toUser": to_user, "amount": amount}
        if message is not None:  # so keys stored before messages existed keep their digest
            request["message"] = message
        return await idempotency.run_once(
            conn,
            caller_id=sender.user_id,
            key=key,
            fingerprint=idempotency.fingerprint("sendCoin", request),
            work=work,
            attempts=attempts,
        )
    outcome = await retry_serializable(
        lambda: transfers.transfer(
            conn, sender=sender, receiver_name=to_user, amount=amount, message=message
        ),
        attempts=attempts,
    )
    transfer_applied(outcome, to_user, amount)
    return SENT


ENTRY_PREFIX = {
    "sent": "transfer",
    "received": "transfer",
    "purchase": "purchase",
    "grant": "grant",
}
"""What a history entry's id names: the ledger row's table (a grant: the grant)."""


def transfer_applied(outcome: transfers.TransferOutcome, to_user: str, amount: int) -> None:
    """Turn a transfer that did not happen into the reason why."""
    if not outcome.receiver_found:
        raise UnknownRecipientError(to_user)
    require_applied(outcome, amount, "amount")


class WalletCache:
    """This worker's last /api/info body per employee, re-sent while PostgreSQL says it holds.

    Most requests are an employee reading a wallet that has not changed since the last read,
    and rendering it was most of PostgreSQL's work for them. The body is kept with the
    wallet's version; the statement compares versions and renders only when they differ, so
    a copy is never served stale, and the round trip stays one either way. A copy is also
    dropped after `MAX_AGE_SECONDS`, far inside the time transaction ids take to wrap around.
    Cleared whole when full, like the verified tokens.
    """

    MAX_AGE_SECONDS = 600.0

    def __init__(self, size: int) -> None:
        self._size = size
        self._held: dict[int, tuple[int, str, float]] = {}
        self._rendered = metrics.Tally(metrics.INFO_BODIES.labels("rendered"))
        self._reused = metrics.Tally(metrics.INFO_BODIES.labels("reused"))

    def held(self, user_id: int) -> tuple[int, str] | None:
        """The version and body kept for this employee, if still young enough to trust."""
        entry = self._held.get(user_id)
        if entry is None:
            return None
        version, body, stored = entry
        if time.monotonic() - stored > self.MAX_AGE_SECONDS:
            del self._held[user_id]
            return None
        return version, body

    def keep(self, user_id: int, version: int, body: str) -> None:
        self._rendered.inc()
        if self._size == 0:
            return
        if len(self._held) >= self._size:
            self._held.clear()
        self._held[user_id] = (version, body, time.monotonic())

    def reused(self) -> None:
        self._reused.inc()


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


async def movements(
    connection: RequestConnection, caller: Claims, query: HistoryQuery
) -> HistoryResponse:
    """One page of the caller's own movements, newest first, and the cursor of the next page.

    Pages are cut by the ledger's one order (`seq`, migration 0010), never by an offset: a
    cursor names the last movement shown, and the next page starts below it. Movements that
    arrive while a client pages are above the first page, so walking the cursors from any
    first page yields every older movement exactly once, in order. One row more than asked
    is read to know whether another page exists, so the last page has `next` null.
    """
    before = history.NEWEST if query.before is None else query.before
    rows = await history.page(
        await connection.get(), caller.user_id, caller.username, before, query.limit + 1
    )
    if rows is None:
        raise UnauthorizedError("employee no longer exists")
    shown = rows[: query.limit]
    return HistoryResponse(
        entries=[
            HistoryEntry(
                id=f"{ENTRY_PREFIX[row.kind]}-{row.id}",
                kind=row.kind,
                counterparty=row.counterparty,
                item=row.item,
                amount=row.amount,
                at=row.created_at,
                message=row.message,
                reason=row.reason,
            )
            for row in shown
        ],
        next=encode_cursor(shown[-1].seq) if len(rows) > query.limit else None,
    )
