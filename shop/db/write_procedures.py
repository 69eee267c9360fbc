"""Calling the write procedures (transfer_coins, buy_item) and what they report back.

Every outcome is told truthfully.

The procedures hold nothing beyond their own transactions (migrations/0011, and
docs/reliability.md "The write path"), so a failed call needs no clean-up statement: behind a
transaction pooler such a statement could run on another server connection anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from shop.db.connections import Connection
from shop.db.failures import UNAVAILABLE
from shop.errors import (
    InsufficientFundsError,
    OutcomeUnknownError,
    ServiceUnavailableError,
    TransactionConflictError,
    UnauthorizedError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """`balance` before the operation (None: no such employee); `applied`: it went through."""

    balance: int | None
    applied: bool


def require_applied(outcome: Outcome, needed: int, what: str) -> None:
    """Turn a conditional debit that did not happen into the reason why."""
    if outcome.balance is None:
        raise UnauthorizedError("employee no longer exists")
    if not outcome.applied:
        raise InsufficientFundsError(outcome.balance, needed, what)


async def call(conn: Connection, query: str, *args: object) -> asyncpg.Record:
    """CALL a write procedure and return its result row.

    A procedure commits inside the call, so a connection lost or a statement cancelled while
    it runs leaves the outcome unknown: that is OutcomeUnknownError, never "nothing was
    changed". Waiting too long for the write gate (lock_timeout) happens before anything is
    written, so it is a plain conflict; so is a connection found closed before sending.
    """
    if conn.is_closed():
        raise ServiceUnavailableError
    try:
        row = await conn.fetchrow(query, *args)
    except asyncpg.LockNotAvailableError:
        log.warning("gave up waiting for the write gate")
        raise TransactionConflictError from None
    except UNAVAILABLE as exc:
        log.error("connection lost during a write procedure, outcome unknown: %r", exc)
        raise OutcomeUnknownError from exc
    if row is None:  # pragma: no cover - a CALL with INOUT parameters always returns a row
        raise RuntimeError(f"{query} returned no row")
    return row
