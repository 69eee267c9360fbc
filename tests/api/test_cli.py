"""The `shop` command: migrate, audit and serve, run as a user would run them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from shop.db import migrate
from tests.conftest import create_database, drop_database
from tests.helpers import Server, run_shop, sample

TABLES = {
    "users",
    "transfers",
    "purchases",
    "transfer_totals",
    "inventory",
    "app_secrets",
    "login_attempts",
    "employee_directory",
}


async def tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {r["tablename"] for r in rows} & TABLES


@pytest.fixture
def scratch_database(admin_url: str) -> Iterator[str]:
    name, url = create_database(admin_url)
    try:
        yield url
    finally:
        drop_database(admin_url, name)


async def test_migrations_go_up_down_and_up_again(scratch_database: str) -> None:
    steps = sorted(p.stem for p in migrate.migrations_dir().glob("*.sql") if "." not in p.stem)
    assert migrate.apply(scratch_database) == steps
    assert await tables(scratch_database) == TABLES

    assert migrate.rollback(scratch_database, len(steps)) == steps[::-1]
    assert await tables(scratch_database) == set()

    for step in steps:  # the stairway
        assert migrate.apply(scratch_database, steps=1) == [step]
        assert migrate.rollback(scratch_database, 1) == [step]
        assert migrate.apply(scratch_database, steps=1) == [step]
    assert migrate.apply(scratch_database) == []
    assert await tables(scratch_database) == TABLES


async def test_migrate_command_twice_is_a_no_op(database_url: str) -> None:
    result = await run_shop("migrate", env={"DATABASE_URL": database_url})

    assert result.returncode == 0, result.stderr
    assert "none pending" in result.stderr


async def test_ledger_rows_cannot_be_changed(db: asyncpg.Connection) -> None:
    await db.execute(
        "INSERT INTO users (username, password_hash, balance)"
        " VALUES ('a', 'x', 990), ('b', 'x', 1010)"
    )
    await db.execute("INSERT INTO transfers (sender_id, receiver_id, amount) VALUES (1, 2, 10)")

    with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
        await db.execute("UPDATE transfers SET amount = 1")
    with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
        await db.execute("DELETE FROM transfers")


async def test_database_refuses_negative_balance_and_self_transfer(db: asyncpg.Connection) -> None:
    await db.execute("INSERT INTO users (username, password_hash, balance) VALUES ('a', 'x', 5)")

    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("UPDATE users SET balance = balance - 6")
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("INSERT INTO transfers (sender_id, receiver_id, amount) VALUES (1, 1, 1)")


async def test_audit_passes_on_consistent_books_and_fails_on_tampered_ones(
    db: asyncpg.Connection, database_url: str
) -> None:
    await db.execute(
        "INSERT INTO users (username, password_hash, balance)"
        " VALUES ('a', 'x', 990), ('b', 'x', 1010)"
    )
    await db.execute("INSERT INTO transfers (sender_id, receiver_id, amount) VALUES (1, 2, 10)")
    await db.execute("INSERT INTO transfer_totals VALUES (1, 2, 10)")

    clean = await run_shop("audit", env={"DATABASE_URL": database_url})
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "OK every coin is accounted for" in clean.stdout

    await db.execute("UPDATE users SET balance = balance + 5 WHERE username = 'b'")
    await db.execute("UPDATE transfer_totals SET amount = 11")
    await db.execute("INSERT INTO inventory VALUES (1, 'pen', 1)")
    tampered = await run_shop("audit", env={"DATABASE_URL": database_url})

    assert tampered.returncode == 1
    assert "FAIL 'b': balance 1015, ledger says 1010" in tampered.stdout
    assert "FAIL transfer total 1->2: aggregate 11, ledger 10" in tampered.stdout
    assert "FAIL inventory of 1 'pen': aggregate 1, ledger None" in tampered.stdout
    assert "FAIL coins held 2005 + spent 0 != 1000 x 2 employees = 2000" in tampered.stdout


async def test_invalid_configuration_is_refused_with_a_clear_message() -> None:
    result = await run_shop("serve", env={"JWT_SECRET": "short", "PORT": "99999"})

    assert result.returncode != 0
    assert "invalid configuration" in result.stderr
    assert "JWT_SECRET" in result.stderr
    assert "PORT" in result.stderr


async def test_commands_other_than_serve_need_a_database_url() -> None:
    result = await run_shop("audit", env={"DATABASE_URL": ""})

    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr


async def login(url: str, username: str) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/api/auth", json={"username": username, "password": "pw"}) as response,
    ):
        assert response.status == 200, await response.text()
        return (await response.json())["token"]


async def coins(url: str, token: str) -> int:
    # A new connection each time, so requests spread over the worker processes.
    async with (
        aiohttp.ClientSession() as session,
        session.get(url + "/api/info", headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        assert response.status == 200, await response.text()
        return (await response.json())["coins"]


async def scrape(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(url + "/metrics") as response:
        assert response.status == 200
        return await response.text()


async def test_workers_and_restarts_share_one_default_secret(
    db: asyncpg.Connection, database_url: str
) -> None:
    env = {"DATABASE_URL": database_url, "WORKERS": "2", "BCRYPT_ROUNDS": "4", "JWT_SECRET": ""}
    first = Server(env)
    try:
        await first.wait_ready()
        token = await login(first.url, "restart-proof")
        assert [await coins(first.url, token) for _ in range(10)] == [1000] * 10
        exposition = await scrape(first.url)
        # Whichever worker answers the scrape reports the requests of both.
        assert sample(exposition, "shop_http_requests_total", route="/api/info") == 10
    finally:
        code, output = first.stop()
    assert code == 0, output

    second = Server(env)
    try:
        await second.wait_ready()
        assert await coins(second.url, token) == 1000
    finally:
        code, output = second.stop()
    assert code == 0, output
    assert await db.fetchval("SELECT count(*) FROM app_secrets") == 1


async def test_serve_without_database_url_runs_an_embedded_postgres(tmp_path: Path) -> None:
    server = Server(
        {"DATABASE_URL": "", "EMBEDDED_PGDATA": str(tmp_path / "pgdata"), "BCRYPT_ROUNDS": "4"}
    )
    try:
        await server.wait_ready(seconds=120)
        token = await login(server.url, "embedded")
        assert await coins(server.url, token) == 1000
    finally:
        code, output = server.stop()
    assert code == 0, output
    assert str(tmp_path / "pgdata") in output
