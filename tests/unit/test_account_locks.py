"""The account locks never hide the outcome when the connection breaks."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from shop.repositories import users


class BrokenAtUnlock:
    """Takes the locks, then loses the connection when asked to release them."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.terminated = False

    async def execute(self, query: str, *_: Any) -> str:
        self.statements.append(query)
        if query == users.UNLOCK:
            raise asyncpg.ConnectionDoesNotExistError("connection was closed")
        return "SELECT 1"

    def terminate(self) -> None:
        self.terminated = True


async def test_a_committed_operation_stays_a_success_when_unlock_loses_the_connection() -> None:
    conn = BrokenAtUnlock()

    async with users.locked(conn, 2, 1):  # type: ignore[arg-type]
        pass

    assert conn.statements == [users.LOCK, users.UNLOCK]
    assert conn.terminated  # the session ends, and its locks with it


async def test_the_original_error_survives_a_failed_unlock() -> None:
    conn = BrokenAtUnlock()

    with pytest.raises(KeyError):
        async with users.locked(conn, 1):  # type: ignore[arg-type]
            raise KeyError("the real reason")
    assert conn.terminated
