"""Authority: which roles exist, and the one place where holding one is checked.

treasurer: grants and the ledger; operator: orders; admin: all of it, and the roles. The
database is asked on every request (`require_role`), never the token: a role taken away stops
working at the holder's next request.
"""

from __future__ import annotations

from typing import Literal, get_args

from shop.auth.tokens import Claims
from shop.db.connections import Connection
from shop.db.request_connection import RequestConnection
from shop.errors import ForbiddenError, UnknownRoleError
from shop.repositories import roles

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
