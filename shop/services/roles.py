"""Roles: who holds which (shop/auth/authority.py checks them), given and taken by admins.

The last admin cannot be removed, even by two admins removing each other at the same moment
(their removals take turns on the admin rows' locks).
"""

from __future__ import annotations

from shop.auth.authority import ADMIN, Role, require_role
from shop.auth.tokens import Claims
from shop.db.connections import Connection
from shop.db.request_connection import RequestConnection
from shop.errors import LastAdminError, UnknownEmployeeError
from shop.repositories import roles
from shop.repositories.roles import Holding


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
