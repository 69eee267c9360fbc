"""The optional employee directory: which names may register (EMPLOYEE_DIRECTORY).

Off by default, so the first login of any name registers it, as the assignment says. When
set to a file of usernames (one a line; blank lines and `#` comments ignored), or to
`database` for the `employee_directory` table loaded by `shop employees import FILE`, a
name that is not listed cannot register: it gets the same 401 as a wrong password. Names
already registered keep logging in either way; the directory decides only who may join.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from shop.auth import usernames
from shop.db.connections import Connection
from shop.repositories import directory as directory_repo

DATABASE = "database"
"""The EMPLOYEE_DIRECTORY value that means: the employee_directory table."""


class Directory(Protocol):
    async def allows(self, conn: Connection, username: str) -> bool: ...


def parse_names(lines: Iterable[str]) -> list[str]:
    """The names of a directory file, NFC; ValueError naming the first line not a valid name."""
    names = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            name = usernames.check_new(line)
        except usernames.UsernameError as exc:
            raise ValueError(f"line {number}: {exc}") from None
        if len(name) > 64:
            raise ValueError(f"line {number}: username must be at most 64 characters")
        names.append(name)
    return names


class FileDirectory:
    """Names read once at start from a file; change the file and restart to change them."""

    def __init__(self, path: Path) -> None:
        with path.open(encoding="utf-8") as lines:
            self._names = frozenset(parse_names(lines))

    async def allows(self, conn: Connection, username: str) -> bool:
        return username in self._names


class TableDirectory:
    """Names in the employee_directory table, read at each registration."""

    async def allows(self, conn: Connection, username: str) -> bool:
        return await directory_repo.contains(conn, username)


def from_setting(value: str | None) -> Directory | None:
    if value is None:
        return None
    if value == DATABASE:
        return TableDirectory()
    return FileDirectory(Path(value))
