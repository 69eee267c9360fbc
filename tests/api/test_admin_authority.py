"""Every admin route x every kind of caller: authority is the database's, read per request."""

from __future__ import annotations

import asyncpg
import pytest

from shop.auth.authority import ROLES, Role
from shop.auth.tokens import TokenCodec
from tests.api.admin_routes import ADMIN_ROUTES, AdminRoute, Scene
from tests.api.conftest import MakeEmployee
from tests.conftest import TEST_SECRET
from tests.helpers import ShopClient

GIVE = "INSERT INTO roles (user_id, role) SELECT id, $2 FROM users WHERE username = $1"
TAKE = "DELETE FROM roles WHERE user_id = (SELECT id FROM users WHERE username = $1)"


def allowed(route: AdminRoute, role: Role) -> bool:
    return role in (route.role, "admin")


async def scene_for(route: AdminRoute, db: asyncpg.Connection, make: MakeEmployee) -> Scene:
    scene = Scene(db=db, target=(await make()).username)
    if route.prepare is not None:
        await route.prepare(scene)
    return scene


ROUTES = [pytest.param(route, id=route.id) for route in ADMIN_ROUTES]


@pytest.mark.parametrize("route", ROUTES)
async def test_an_employee_without_a_role_is_refused_403(
    route: AdminRoute, client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    scene = await scene_for(route, db, make_employee)
    caller = await make_employee()

    assert await route.call(client.http, caller.token, scene) == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES)
async def test_each_role_may_do_what_it_holds_and_nothing_else(
    route: AdminRoute,
    role: Role,
    client: ShopClient,
    db: asyncpg.Connection,
    make_employee: MakeEmployee,
) -> None:
    scene = await scene_for(route, db, make_employee)
    caller = await make_employee()
    await db.execute(GIVE, caller.username, role)

    status = await route.call(client.http, caller.token, scene)

    assert status == (route.ok_status if allowed(route, role) else 403)


@pytest.mark.parametrize("route", ROUTES)
async def test_a_role_just_revoked_stops_working_at_the_next_request(
    route: AdminRoute, client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    scene = await scene_for(route, db, make_employee)
    caller = await make_employee()
    await db.execute(GIVE, caller.username, route.role)
    assert await route.call(client.http, caller.token, scene) == route.ok_status

    await db.execute(TAKE, caller.username)

    assert await route.call(client.http, caller.token, scene) == 403


@pytest.mark.parametrize("route", ROUTES)
async def test_an_expired_token_of_an_admin_is_refused_401(
    route: AdminRoute, client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    scene = await scene_for(route, db, make_employee)
    caller = await make_employee()
    await db.execute(GIVE, caller.username, "admin")
    user_id = await db.fetchval("SELECT id FROM users WHERE username = $1", caller.username)
    expired = TokenCodec(TEST_SECRET, -10).issue(user_id, caller.username)

    assert await route.call(client.http, expired, scene) == 401
