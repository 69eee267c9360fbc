"""Grants: coins a treasurer gives, to named employees (all or nothing, applied before the
answer) or to everyone (accepted at once, applied by `shop worker` batch by batch).

Exactly once per employee: each credit is a row of grant_credits keyed by (grant, employee),
and a balance is raised only with the insertion of its credit, in the same transaction
(migration 0016). A worker killed mid-batch rolls the batch back; the next run redoes it.
"""

from __future__ import annotations

from shop import idempotency
from shop.auth import authority
from shop.auth.tokens import Claims
from shop.db.connections import Connection
from shop.db.request_connection import RequestConnection
from shop.errors import IdempotencyKeyRequiredError, UnknownEmployeeError, UnknownGrantError
from shop.idempotency import Answer
from shop.models import GrantRequest, GrantResponse
from shop.repositories import grants
from shop.repositories.grants import GrantState

TREASURER: authority.Role = "treasurer"


def render(state: GrantState) -> str:
    return GrantResponse(
        id=str(state.id),
        amount=state.amount,
        reason=state.reason,
        status="done" if state.done else "running",
        recipients=state.recipients,
        granted=state.granted,
    ).model_dump_json()


async def give(
    connection: RequestConnection,
    caller: Claims,
    request: GrantRequest,
    *,
    key: str | None,
    attempts: int,
) -> Answer:
    """Accept a grant under its Idempotency-Key: 200 applied (named), 202 running (to all).

    The role is checked before the key is looked at, so a refusal for want of it is never
    stored, and a replay needs the role as much as the first request did.
    """
    if key is None:
        raise IdempotencyKeyRequiredError
    conn = await authority.authorize(connection, caller, TREASURER)

    async def work(conn: Connection) -> Answer:
        if request.to_users is None:
            return await _accept_for_everyone(conn, caller, request)
        return await _apply_named(conn, caller, request, request.to_users)

    return await idempotency.run_once(
        conn,
        caller_id=caller.user_id,
        key=key,
        fingerprint=idempotency.fingerprint("grant", request.model_dump(by_alias=True)),
        work=work,
        attempts=attempts,
    )


async def _apply_named(
    conn: Connection, caller: Claims, request: GrantRequest, names: list[str]
) -> Answer:
    found = await grants.find_employees(conn, names)
    for name in names:
        if name not in found:
            raise UnknownEmployeeError(name)
    user_ids = sorted(found.values())
    await grants.lock_accounts(conn, user_ids)
    grant_id = await grants.create(
        conn,
        granted_by=caller.user_id,
        amount=request.amount,
        reason=request.reason,
        to_all=False,
        recipients=len(user_ids),
    )
    await grants.credit_named(conn, grant_id, user_ids, request.amount)
    state = GrantState(grant_id, request.amount, request.reason, len(user_ids), len(user_ids), True)
    return Answer(200, render(state))


async def _accept_for_everyone(conn: Connection, caller: Claims, request: GrantRequest) -> Answer:
    recipients, up_to = await grants.everyone(conn)
    grant_id = await grants.create(
        conn,
        granted_by=caller.user_id,
        amount=request.amount,
        reason=request.reason,
        to_all=True,
        recipients=recipients,
        up_to=up_to,
    )
    return Answer(
        202, render(GrantState(grant_id, request.amount, request.reason, recipients, 0, False))
    )


async def progress(connection: RequestConnection, caller: Claims, grant_id: str) -> str:
    """One grant and how far it got, as JSON."""
    conn = await authority.authorize(connection, caller, TREASURER)
    if not (grant_id.isascii() and grant_id.isdigit() and len(grant_id) <= 18):
        raise UnknownGrantError(grant_id)
    state = await grants.find(conn, int(grant_id))
    if state is None:
        raise UnknownGrantError(grant_id)
    return render(state)


async def apply_batch(conn: Connection, size: int) -> int | None:
    """Credit the next `size` employees of the oldest running grant to all, in one
    transaction; the grant's id, or None when no grant is running.

    READ COMMITTED, with write_gate held as the write procedures hold it and the accounts'
    advisory locks taken in id order, so a transfer or purchase in flight on one of them
    finishes first and the ones that arrive meanwhile wait behind the batch, never deadlock.
    """
    async with conn.transaction():
        await grants.hold_write_gate(conn)
        grant = await grants.next_running(conn)
        if grant is None:
            return None
        batch = await grants.credit_batch(conn, grant, size)
        reached = grant.up_to if batch.last is None else batch.last
        await grants.advance(conn, grant.id, reached, batch.credited, done=reached >= grant.up_to)
    return grant.id
