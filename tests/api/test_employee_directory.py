"""EMPLOYEE_DIRECTORY: off by default; a file, or a table `shop employees import` loads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from passlib.context import CryptContext

from shop.auth.usernames import skeleton
from tests.api.conftest import perimeter_env, start_server
from tests.helpers import Server, attempt_login, run_shop

NOT_LISTED = "this username is not in the employee directory"


async def login(
    http: aiohttp.ClientSession,
    server: Server,
    username: str,
    password: str = "pw",  # noqa: S107
) -> tuple[int, str]:
    return (await attempt_login(http, username, password, url=server.url)).said


async def add_employee(db: asyncpg.Connection, name: str, password: str) -> None:
    """An employee registered before the directory was switched on."""
    password_hash = CryptContext(schemes=["bcrypt"], bcrypt__rounds=4).hash(password)
    await db.execute(
        "INSERT INTO users (username, password_hash, balance, username_skeleton)"
        " VALUES ($1, $2, 1000, $3)",
        name,
        password_hash,
        skeleton(name),
    )


@pytest.fixture(scope="module")
def file_directory_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    listing = tmp_path_factory.mktemp("directory") / "employees.txt"
    listing.write_text("# who may join\ncarol\n\nJos\u00e9\n", encoding="utf-8")
    server = start_server(perimeter_env(database_url, EMPLOYEE_DIRECTORY=str(listing)))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def table_directory_server(database_url: str) -> Iterator[Server]:
    server = start_server(perimeter_env(database_url, EMPLOYEE_DIRECTORY="database"))
    try:
        yield server
    finally:
        server.stop()


async def test_without_a_directory_any_new_name_registers(
    perimeter_server: Server, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    assert (await login(http, perimeter_server, "walk-in"))[0] == 200


async def test_with_a_directory_file_only_listed_names_register(
    file_directory_server: Server, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    await add_employee(db, "frank", "franks-password")

    assert (await login(http, file_directory_server, "carol"))[0] == 200
    assert (await login(http, file_directory_server, "Jose\u0301"))[0] == 200  # NFD of a listed
    assert await login(http, file_directory_server, "eve") == (401, NOT_LISTED)
    assert (await login(http, file_directory_server, "frank", "franks-password"))[0] == 200
    assert await db.fetchval("SELECT count(*) FROM users") == 3


async def test_with_the_directory_table_only_imported_names_register(
    table_directory_server: Server,
    http: aiohttp.ClientSession,
    db: asyncpg.Connection,
    database_url: str,
    tmp_path: Path,
) -> None:
    listing = tmp_path / "hires.txt"
    listing.write_text("gina\nhal\n", encoding="utf-8")
    before = await login(http, table_directory_server, "gina")

    env = {"DATABASE_URL": database_url}
    imported = await run_shop("employees", "import", str(listing), env=env)
    again = await run_shop("employees", "import", str(listing), env=env)

    assert before == (401, NOT_LISTED)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("2 names added")
    assert again.stdout.startswith("0 names added")
    assert (await login(http, table_directory_server, "gina"))[0] == 200
    assert await login(http, table_directory_server, "ivan") == (401, NOT_LISTED)


async def test_import_refuses_a_file_with_an_invalid_name_and_adds_nothing(
    db: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    listing = tmp_path / "bad.txt"
    listing.write_text("ok-name\nbad\u200bname\n", encoding="utf-8")

    result = await run_shop("employees", "import", str(listing), env={"DATABASE_URL": database_url})

    assert result.returncode == 1
    assert "line 2: username must not contain invisible" in result.stderr
    assert await db.fetchval("SELECT count(*) FROM employee_directory") == 0
