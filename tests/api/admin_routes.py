"""Every admin route, with a request it accepts from a caller who holds its role.

tests/api/test_admin_authority.py runs each entry against every kind of caller; a new admin
route joins that table by being listed in ADMIN_ROUTES.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from shop.auth.authority import Role


@dataclass
class Scene:
    """What a route's request may refer to: an employee other than the caller, and whatever
    `prepare` made (by name, for the path and body)."""

    db: asyncpg.Connection
    target: str
    values: dict[str, str] = field(default_factory=dict)


Prepare = Callable[[Scene], Awaitable[None]]
Body = Callable[[Scene], Any]


@dataclass(frozen=True)
class AdminRoute:
    method: str
    path: str
    """With `{target}` and `prepare`'s names in braces."""
    role: Role
    """The role it needs; admin may do everything."""
    ok_status: int
    """What a caller with the role gets for this request."""
    body: Body | None = None
    idempotency_key: bool = False
    prepare: Prepare | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    async def call(self, http: TestClient, token: str, scene: Scene) -> int:
        """Send the request as the holder of `token`; the status (the body is the contract's)."""
        headers = {"Authorization": f"Bearer {token}"}
        if self.idempotency_key:
            headers["Idempotency-Key"] = secrets.token_hex(16)
        path = self.path.format(target=scene.target, **scene.values)
        json = None if self.body is None else self.body(scene)
        async with http.request(self.method, path, json=json, headers=headers) as response:
            if response.status >= 400:
                body = await response.json()
                assert set(body) == {"errors"}, body
            else:
                await response.read()
            return response.status


async def give_target_operator(scene: Scene) -> None:
    await scene.db.execute(
        "INSERT INTO roles (user_id, role) SELECT id, 'operator' FROM users WHERE username = $1"
        " ON CONFLICT DO NOTHING",
        scene.target,
    )


async def make_grant(scene: Scene) -> None:
    grant_id = await scene.db.fetchval(
        "INSERT INTO grants (granted_by, amount, reason, to_all, recipients)"
        " SELECT id, 5, 'prepared', false, 0 FROM users WHERE username = $1 RETURNING id",
        scene.target,
    )
    scene.values["grant"] = str(grant_id)


ADMIN_ROUTES: list[AdminRoute] = [
    AdminRoute(
        "POST",
        "/api/admin/grants",
        "treasurer",
        200,
        body=lambda scene: {"amount": 5, "reason": "thanks", "toUsers": [scene.target]},
        idempotency_key=True,
    ),
    AdminRoute("GET", "/api/admin/grants/{grant}", "treasurer", 200, prepare=make_grant),
    AdminRoute("GET", "/api/admin/roles", "admin", 200),
    AdminRoute(
        "POST",
        "/api/admin/roles",
        "admin",
        200,
        body=lambda scene: {"username": scene.target, "role": "treasurer"},
    ),
    AdminRoute(
        "DELETE",
        "/api/admin/roles/{target}/operator",
        "admin",
        200,
        prepare=give_target_operator,
    ),
]
