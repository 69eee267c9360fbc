"""write_procedures.call: truthful outcomes, and one statement per call whatever happens."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from shop.db import write_procedures
from shop.errors import OutcomeUnknownError, ServiceUnavailableError, TransactionConflictError
from shop.http.responses import status_of

CALL = "CALL some_procedure($1)"


class FakeConnection:
    """Answers the CALL with `outcome` (a row or an exception) and records what was sent."""

    def __init__(self, outcome: Any, *, closed: bool = False) -> None:
        self.outcome = outcome
        self.closed = closed
        self.statements: list[str] = []

    def is_closed(self) -> bool:
        return self.closed

    async def fetchrow(self, query: str, *_: Any) -> Any:
        self.statements.append(query)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


async def call(conn: FakeConnection) -> Any:
    return await write_procedures.call(conn, CALL, 1)  # type: ignore[arg-type]


async def test_a_successful_call_returns_its_row_and_sends_nothing_more() -> None:
    conn = FakeConnection({"applied": True})

    assert await call(conn) == {"applied": True}
    assert conn.statements == [CALL]


@pytest.mark.parametrize(
    "lost",
    [
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        ConnectionResetError("reset by peer"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
    ],
)
async def test_losing_the_database_during_the_call_is_an_unknown_outcome(
    lost: Exception,
) -> None:
    conn = FakeConnection(lost)

    with pytest.raises(OutcomeUnknownError) as raised:
        await call(conn)

    assert status_of(raised.value) == 500
    assert "may or may not" in raised.value.message
    assert conn.statements == [CALL]  # no clean-up statement: the server ended the transaction


async def test_a_connection_closed_before_the_call_means_nothing_was_applied() -> None:
    conn = FakeConnection({"applied": True}, closed=True)

    with pytest.raises(ServiceUnavailableError):
        await call(conn)
    assert conn.statements == []


async def test_giving_up_on_the_write_gate_is_a_conflict_without_clean_up() -> None:
    conn = FakeConnection(asyncpg.LockNotAvailableError("canceling statement due to lock timeout"))

    with pytest.raises(TransactionConflictError):
        await call(conn)
    assert conn.statements == [CALL]


async def test_serialization_failures_pass_through_for_the_retry() -> None:
    conn = FakeConnection(asyncpg.SerializationError("could not serialize access"))

    with pytest.raises(asyncpg.SerializationError):
        await call(conn)
    assert conn.statements == [CALL]
