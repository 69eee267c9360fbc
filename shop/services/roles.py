"""Roles: who may operate the shop, and the one place where that authority is checked.

treasurer: grants and the ledger; operator: orders; admin: all of it, and the roles. The
database is asked on every request (`require_role`), never the token: a role taken away stops
working at the holder's next request. The last admin cannot be removed, even by two admins
removing each other at the same moment (their removals take turns on the admin rows' locks).
"""

from __future__ import annotations

from typing import Literal, get_args

from shop.auth.tokens import Claims
from shop.db.connections import Connection
from shop.db.request_connection import RequestConnection
from shop.errors import ForbiddenError, LastAdminError, UnknownEmployeeError, UnknownRoleError
from shop.repositories import roles
from shop.repositories.roles import Holding

Role = Literal["treasurer", "operator", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
ADMIN: Role = "admin"


def parse_role(text: str) -> Role:
    """A role named in a path or on the command line, or UnknownRoleError."""
    for role in ROLES:
        if text == role:
            return role
    raise UnknownRoleError(text[:64])


async def require_role(conn: Connection, caller: Claims, role: Role) -> None:
    """Raise ForbiddenError unless the caller holds `role` or admin, as the database says now.

    Call it inside the transaction of the operation it guards where there is one.
    """
    if not await roles.holds_any(conn, caller.user_id, caller.username, [role, ADMIN]):
        raise ForbiddenError(role)


async def authorize(connection: RequestConnection, caller: Claims, role: Role) -> Connection:
    """The request's connection, once the caller is known to hold `role` (or admin)."""
    conn = await connection.get()
    await require_role(conn, caller, role)
    return conn


async def held(connection: RequestConnection, caller: Claims) -> list[str]:
    """The caller's own roles (for /api/me), in name order."""
    return await roles.held_by(await connection.get(), caller.user_id, caller.username)


async def everyone(conn: Connection, actor: Claims | None) -> list[Holding]:
    """Every role held, by employee name; `actor` None: someone with database access."""
    if actor is not None:
        await require_role(conn, actor, ADMIN)
    return await roles.everyone(conn)


async def give(conn: Connection, actor: Claims | None, username: str, role: Role) -> None:
    """Let `username` hold `role`; holding it already is fine. `actor` None: the CLI."""
    async with conn.transaction():
        if actor is not None:
            await require_role(conn, actor, ADMIN)
        user_id = await roles.find_employee(conn, username)
        if user_id is None:
            raise UnknownEmployeeError(username)
        await roles.give(conn, user_id, role)


async def take(conn: Connection, actor: Claims | None, username: str, role: Role) -> None:
    """Take `role` from `username` (not holding it is fine), unless that leaves no admin.

    READ COMMITTED, with every admin row locked first: a second removal waits for the first
    to commit, and then reads the admins that are left, so two admins removing each other
    leave one. The actor's own authority is read after that lock, for the same reason.
    """
    async with conn.transaction():
        admins = await roles.lock_admins(conn)
        if actor is not None:
            await require_role(conn, actor, ADMIN)
        user_id = await roles.find_employee(conn, username)
        if user_id is None:
            raise UnknownEmployeeError(username)
        if role == ADMIN and admins == [user_id]:
            raise LastAdminError
        await roles.take(conn, user_id, role)
