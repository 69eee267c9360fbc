"""Roles: /api/me, giving and taking roles, the last admin, and `shop roles` for the first."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shop.auth.tokens import Claims
from shop.errors import ForbiddenError, LastAdminError
from shop.services import roles
from tests.api.conftest import Employee, MakeEmployee
from tests.helpers import ShopClient, bearer, expect, run_shop

GIVE = "INSERT INTO roles (user_id, role) SELECT id, $2 FROM users WHERE username = $1"
ADMINS = "SELECT count(*) FROM roles WHERE role = 'admin'"
WAITING_FOR_A_ROW_LOCK = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def claims_of(db: asyncpg.Connection, employee: Employee) -> Claims:
    user_id = await db.fetchval("SELECT id FROM users WHERE username = $1", employee.username)
    return Claims(user_id=user_id, username=employee.username)


async def me(client: ShopClient, token: str) -> dict[str, object]:
    return await expect(await client.http.get("/api/me", headers=bearer(token)), 200)


async def test_me_names_the_caller_and_the_roles_the_database_holds_now(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    alice = await make_employee()
    assert await me(client, alice.token) == {"username": alice.username, "roles": []}

    await db.execute(GIVE, alice.username, "treasurer")
    await db.execute(GIVE, alice.username, "operator")

    assert await me(client, alice.token) == {
        "username": alice.username,
        "roles": ["operator", "treasurer"],
    }
    await expect(await client.http.get("/api/me"), 401)


async def test_an_admin_gives_lists_and_takes_roles(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    admin, bob = await make_employee(), await make_employee()
    await db.execute(GIVE, admin.username, "admin")
    give = {"username": bob.username, "role": "operator"}

    for _ in range(2):  # giving a role held already is fine
        await expect(
            await client.http.post("/api/admin/roles", json=give, headers=bearer(admin.token)), 200
        )
    listed = await expect(
        await client.http.get("/api/admin/roles", headers=bearer(admin.token)), 200
    )
    assert listed == {
        "roles": sorted(
            [{"username": admin.username, "role": "admin"}, give], key=lambda r: r["username"]
        )
    }
    assert await me(client, bob.token) == {"username": bob.username, "roles": ["operator"]}

    for _ in range(2):  # taking a role not held is fine
        await expect(
            await client.http.delete(
                f"/api/admin/roles/{bob.username}/operator", headers=bearer(admin.token)
            ),
            200,
        )
    assert await me(client, bob.token) == {"username": bob.username, "roles": []}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"username": "nobody-here", "role": "operator"}, "does not exist"),
        ({"username": "{bob}", "role": "king"}, "role"),
        ({"username": "{bob}"}, "role"),
        ({"username": "{bob}", "role": "operator", "extra": 1}, "extra"),
    ],
)
async def test_giving_an_unknown_employee_or_role_is_400_and_changes_nothing(
    client: ShopClient,
    db: asyncpg.Connection,
    make_employee: MakeEmployee,
    body: dict[str, object],
    message: str,
) -> None:
    admin, bob = await make_employee(), await make_employee()
    await db.execute(GIVE, admin.username, "admin")
    if body.get("username") == "{bob}":
        body = {**body, "username": bob.username}

    response = await client.http.post("/api/admin/roles", json=body, headers=bearer(admin.token))

    assert message in (await expect(response, 400))["errors"]
    assert await db.fetchval("SELECT count(*) FROM roles") == 1


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/admin/roles/nobody-here/operator", "does not exist"),
        ("/api/admin/roles/{bob}/king", "role"),
    ],
)
async def test_taking_from_an_unknown_employee_or_an_unknown_role_is_400(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee, path: str, message: str
) -> None:
    admin, bob = await make_employee(), await make_employee()
    await db.execute(GIVE, admin.username, "admin")

    response = await client.http.delete(
        path.replace("{bob}", bob.username), headers=bearer(admin.token)
    )

    assert message in (await expect(response, 400))["errors"]
    assert await db.fetchval(ADMINS) == 1


async def test_the_last_admin_cannot_be_removed_even_by_themselves(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    admin, other = await make_employee(), await make_employee()
    await db.execute(GIVE, admin.username, "admin")
    path = f"/api/admin/roles/{admin.username}/admin"

    body = await expect(await client.http.delete(path, headers=bearer(admin.token)), 400)

    assert "last admin" in body["errors"]
    assert await db.fetchval(ADMINS) == 1
    await db.execute(GIVE, other.username, "admin")  # with a second admin, it may go
    await expect(await client.http.delete(path, headers=bearer(admin.token)), 200)
    assert await me(client, admin.token) == {"username": admin.username, "roles": []}


async def test_two_admins_removing_each_other_at_once_leave_one(
    client: ShopClient, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    a, b = await make_employee(), await make_employee()
    for _ in range(10):
        await db.execute("DELETE FROM roles")
        await db.execute(GIVE, a.username, "admin")
        await db.execute(GIVE, b.username, "admin")

        statuses = await asyncio.gather(
            client.http.delete(f"/api/admin/roles/{b.username}/admin", headers=bearer(a.token)),
            client.http.delete(f"/api/admin/roles/{a.username}/admin", headers=bearer(b.token)),
        )

        assert sorted(r.status for r in statuses) == [200, 403]
        assert await db.fetchval(ADMINS) == 1


async def test_a_removal_waiting_behind_another_sees_its_result(
    database_url: str, db: asyncpg.Connection, make_employee: MakeEmployee
) -> None:
    """The interleaving the race above may or may not hit, made to happen: B's removal of A
    waits on the admin rows that A's removal of B holds, then finds B no admin any more."""
    a, b = await make_employee(), await make_employee()
    await db.execute(GIVE, a.username, "admin")
    await db.execute(GIVE, b.username, "admin")
    a_claims, b_claims = await claims_of(db, a), await claims_of(db, b)
    first, second = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        held = first.transaction()
        await held.start()
        await first.execute(
            "SELECT user_id FROM roles WHERE role = 'admin' ORDER BY user_id FOR UPDATE"
        )
        waiting = asyncio.create_task(roles.take(second, b_claims, a.username, "admin"))
        async with asyncio.timeout(10):
            while not await db.fetchval(WAITING_FOR_A_ROW_LOCK):  # noqa: ASYNC110 - the server
                await asyncio.sleep(0.01)
        await first.execute(
            "DELETE FROM roles WHERE user_id = $1 AND role = 'admin'", b_claims.user_id
        )
        await held.commit()

        with pytest.raises(ForbiddenError):
            await waiting
        # and someone with database access cannot remove the one left either
        with pytest.raises(LastAdminError):
            await roles.take(second, None, a.username, "admin")
    finally:
        await first.close()
        await second.close()
    assert await db.fetch("SELECT user_id FROM roles WHERE role = 'admin'") == [(a_claims.user_id,)]


async def test_shop_roles_makes_the_first_admin_lists_and_removes(
    database_url: str, db: asyncpg.Connection, client: ShopClient, make_employee: MakeEmployee
) -> None:
    alice, bob = await make_employee(), await make_employee()
    env = {"DATABASE_URL": database_url}

    added = await run_shop("roles", "add", alice.username, "admin", env=env)
    assert added.returncode == 0, added.stderr
    assert (await run_shop("roles", "add", bob.username, "treasurer", env=env)).returncode == 0
    listed = await run_shop("roles", "list", env=env)
    assert listed.stdout.splitlines() == sorted(
        [f"{alice.username}\tadmin", f"{bob.username}\ttreasurer"]
    )
    assert await me(client, alice.token) == {"username": alice.username, "roles": ["admin"]}

    last = await run_shop("roles", "remove", alice.username, "admin", env=env)
    assert last.returncode == 1
    assert "last admin" in last.stderr
    unknown = await run_shop("roles", "add", "nobody-here", "admin", env=env)
    assert unknown.returncode == 1
    assert "does not exist" in unknown.stderr
    bad_role = await run_shop("roles", "add", bob.username, "king", env=env)
    assert bad_role.returncode == 1
    assert "unknown role" in bad_role.stderr
    removed = await run_shop("roles", "remove", bob.username, "treasurer", env=env)
    assert removed.returncode == 0, removed.stderr
    assert await db.fetchval("SELECT count(*) FROM roles") == 1
