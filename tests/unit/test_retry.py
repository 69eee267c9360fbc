"""run_serializable with serialization failures injected by a fake connection."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from shop.db import run_serializable
from shop.errors import InsufficientFundsError, OutcomeUnknownError, TransactionConflictError


class FakeConnection:
    """Records the transactions it is asked for; fails the first `failures` of them."""

    def __init__(self, failures: list[type[Exception]]) -> None:
        self.failures: list[type[Exception]] = list(failures)
        self.isolations: list[str] = []
        self.committed = 0

    @contextlib.asynccontextmanager
    async def transaction(self, *, isolation: str) -> AsyncIterator[None]:
        self.isolations.append(isolation)
        yield
        if self.failures:  # like a conflict detected at COMMIT
            raise self.failures.pop(0)("could not serialize access")
        self.committed += 1


async def work(conn: Any) -> str:
    return "done"


async def test_serialization_failures_are_retried_until_success() -> None:
    conn = FakeConnection([asyncpg.SerializationError, asyncpg.DeadlockDetectedError])

    result = await run_serializable(conn, work, attempts=5, base_delay=0)  # type: ignore[arg-type]

    assert result == "done"
    assert conn.isolations == ["serializable"] * 3
    assert conn.committed == 1


async def test_retries_run_out_into_a_conflict_error() -> None:
    conn = FakeConnection([asyncpg.SerializationError] * 3)

    with pytest.raises(TransactionConflictError) as raised:
        await run_serializable(conn, work, attempts=3, base_delay=0)  # type: ignore[arg-type]

    assert raised.value.status == 500
    assert conn.committed == 0
    assert len(conn.isolations) == 3


async def test_domain_errors_are_not_retried() -> None:
    conn = FakeConnection([])
    calls = 0

    async def broke(_: Any) -> None:
        nonlocal calls
        calls += 1
        raise InsufficientFundsError(5, 10)

    with pytest.raises(InsufficientFundsError):
        await run_serializable(conn, broke, attempts=5, base_delay=0)  # type: ignore[arg-type]
    assert calls == 1


async def test_other_database_errors_are_not_retried() -> None:
    conn = FakeConnection([asyncpg.UniqueViolationError])

    with pytest.raises(asyncpg.UniqueViolationError):
        await run_serializable(conn, work, attempts=5, base_delay=0)  # type: ignore[arg-type]
    assert len(conn.isolations) == 1


async def test_connection_lost_during_commit_is_an_unknown_outcome() -> None:
    conn = FakeConnection([asyncpg.ConnectionDoesNotExistError])

    with pytest.raises(OutcomeUnknownError) as raised:
        await run_serializable(conn, work, attempts=5, base_delay=0)  # type: ignore[arg-type]

    assert raised.value.status == 500
    assert "may or may not" in raised.value.message
    assert len(conn.isolations) == 1  # never retried: it might have been applied


@pytest.mark.parametrize("error", [ConnectionResetError, TimeoutError, asyncpg.AdminShutdownError])
async def test_any_loss_of_the_database_at_commit_is_an_unknown_outcome(
    error: type[Exception],
) -> None:
    conn = FakeConnection([error])

    with pytest.raises(OutcomeUnknownError):
        await run_serializable(conn, work, attempts=5, base_delay=0)  # type: ignore[arg-type]


async def test_connection_lost_before_commit_means_nothing_was_applied() -> None:
    conn = FakeConnection([])

    async def cut(_: Any) -> None:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")

    with pytest.raises(asyncpg.ConnectionDoesNotExistError):
        await run_serializable(conn, cut, attempts=5, base_delay=0)  # type: ignore[arg-type]
    assert conn.committed == 0
