"""Idempotency-Key: a write applied at most once, its answer kept and repeated.

The semantics are the contract's (shared/api/operator.yaml): Stripe's, with the IETF httpapi
draft's 409 and 422. A key is scoped to the calling employee and kept at least `RETENTION`.
The first request with a key runs its unit of work in one SERIALIZABLE transaction that also
stores its status and body under the key; a repeat with the same request gets that answer
again (`Answer.replayed`, the header `Idempotent-Replayed: true`) and moves nothing; the same
key with another request is 422; a repeat while the first is in flight is 409 at once (the
key's lock is tried, never waited for). A serialization failure rolls back the key with the
move, and the whole transaction runs again. Requests without a key never come here.

What is kept: the answer of a request that was processed, a 4xx decided by the data included
("not enough coins": a repeat says so again, even if coins arrived meanwhile). A unit of work
that raises a 4xx ShopError has its writes rolled back; the error's answer is then stored in
a transaction of its own. A 5xx (conflict, outage, unknown outcome) is never stored, so the
client's retry with the same key runs afresh. Refusals that depend on the request alone
(validation, self-transfer, unknown item) come before this, are not stored, and repeat anyway.

Use (from a service; the handler parses the key with `parse_key` and renders the answer with
`shop.http.responses.stored_response(answer.status, answer.body, replayed=answer.replayed)`):

    async def work(conn: Connection) -> Answer:
        ...  # SQL through repositories, on `conn` only; raise a ShopError to refuse
        return Answer(200, body_json)

    answer = await idempotency.run_once(
        await connection.get(),
        caller_id=claims.user_id,
        key=key,
        fingerprint=idempotency.fingerprint("grant", body.model_dump(by_alias=True)),
        work=work,
        attempts=settings.tx_attempts,
    )

The transaction holds write_gate as the write procedures do (migration 0011): ROW EXCLUSIVE
on the first attempt, EXCLUSIVE on the retries, so a unit of work that finds its accounts
held (their advisory locks tried, as transfer_in_transaction does) raises 40001 and runs
again behind every writer in flight. `work` may run more than once: no effects outside the
database. Keys past their retention are deleted by `shop worker` with
`repositories.idempotency_keys.delete_expired`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import orjson

from shop.db.connections import Connection
from shop.db.failures import UNAVAILABLE
from shop.db.retry import retry_serializable
from shop.errors import (
    IdempotencyKeyInFlightError,
    IdempotencyKeyReusedError,
    InvalidIdempotencyKeyError,
    OutcomeUnknownError,
    ServiceUnavailableError,
    ShopError,
    TransactionConflictError,
)
from shop.http.responses import storable_answer
from shop.repositories import idempotency_keys

HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
"""How long a key is kept at least; `shop worker` deletes older ones."""

_KEY_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))

# The transaction of a keyed write, with the write gate taken before its snapshot (the first
# statement after LOCK takes it), in one round trip. Simple-query strings, no parameters.
_BEGIN = "BEGIN ISOLATION LEVEL SERIALIZABLE; LOCK TABLE write_gate IN ROW EXCLUSIVE MODE"
_BEGIN_BEHIND_WRITERS = (
    "BEGIN ISOLATION LEVEL SERIALIZABLE; LOCK TABLE write_gate IN EXCLUSIVE MODE"
)


@dataclass(frozen=True, slots=True)
class Answer:
    """A status and its body (JSON text, or "" for none); `replayed`: stored before."""

    status: int
    body: str = ""
    replayed: bool = False


SENT = Answer(200)
"""The contract's 200 without a body, for sendCoin and buy."""

Work = Callable[[Connection], Awaitable[Answer]]


def parse_key(values: Sequence[str]) -> str | None:
    """The request's Idempotency-Key (every value of the header), None without one."""
    if not values:
        return None
    if len(values) > 1 or not 1 <= len(values[0]) <= 255 or not _KEY_CHARS.issuperset(values[0]):
        raise InvalidIdempotencyKeyError
    return values[0]


def fingerprint(operation: str, parameters: object) -> bytes:
    """A digest of the request: its operation and its validated parameters (JSON-able)."""
    canonical = orjson.dumps([operation, parameters], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).digest()


class _RefusedError(Exception):
    """The unit of work refused with a 4xx: roll its writes back, then store this answer."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer


async def run_once(
    conn: Connection,
    *,
    caller_id: int,
    key: str,
    fingerprint: bytes,
    work: Work,
    attempts: int,
) -> Answer:
    """Run `work` at most once for (caller, key), or repeat the answer it stored."""
    tries = 0

    async def attempt(unit: Work) -> Answer:
        nonlocal tries
        tries += 1
        return await _transaction(conn, caller_id, key, fingerprint, unit, behind=tries > 1)

    try:
        return await retry_serializable(lambda: attempt(work), attempts=attempts)
    except _RefusedError as refused:
        answer = refused.answer

    async def keep(_: Connection) -> Answer:
        return answer

    return await retry_serializable(lambda: attempt(keep), attempts=attempts)


async def _transaction(
    conn: Connection,
    caller_id: int,
    key: str,
    fingerprint: bytes,
    work: Work,
    *,
    behind: bool,
) -> Answer:
    """One attempt: claim the key, run the work and store its answer, COMMIT; all or nothing.

    A failure before COMMIT leaves nothing behind (the server rolls back a transaction whose
    connection is gone), so it may say "nothing was changed"; one during COMMIT may not.
    """
    try:
        await conn.execute(_BEGIN_BEHIND_WRITERS if behind else _BEGIN)
        claimed = await idempotency_keys.claim(conn, caller_id, key)
        if not claimed.free:
            raise IdempotencyKeyInFlightError
        if claimed.status is not None:
            if claimed.fingerprint != fingerprint:
                raise IdempotencyKeyReusedError
            await conn.execute("ROLLBACK")  # read only
            return Answer(claimed.status, claimed.body or "", replayed=True)
        try:
            answer = await work(conn)
        except ShopError as exc:
            stored = storable_answer(exc)
            if stored is None:
                raise
            raise _RefusedError(Answer(*stored)) from None
        await idempotency_keys.store(conn, caller_id, key, fingerprint, answer.status, answer.body)
    except BaseException as exc:
        await _roll_back(conn)
        if isinstance(exc, asyncpg.LockNotAvailableError):
            raise TransactionConflictError from None  # lock_timeout: waited for the gate
        if isinstance(exc, UNAVAILABLE):
            raise ServiceUnavailableError from exc
        raise
    try:
        await conn.execute("COMMIT")
    except UNAVAILABLE as exc:
        raise OutcomeUnknownError from exc
    except BaseException:
        await _roll_back(conn)
        raise
    return answer


async def _roll_back(conn: Connection) -> None:
    """End the transaction if the connection still has one; a broken one is the pool's."""
    try:
        if not conn.is_closed() and conn.is_in_transaction():
            await conn.execute("ROLLBACK")
    except UNAVAILABLE:
        pass
