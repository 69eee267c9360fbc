"""retry_serializable with serialization failures injected into the unit of work."""

from __future__ import annotations

import asyncpg
import pytest

from shop.db.retry import retry_serializable
from shop.errors import InsufficientFundsError, TransactionConflictError
from shop.http.responses import status_of


class FlakyWork:
    """A transaction that fails with the given errors first, then commits."""

    def __init__(self, failures: list[type[BaseException]]) -> None:
        self.failures = list(failures)
        self.runs = 0

    async def __call__(self) -> str:
        self.runs += 1
        if self.failures:
            raise self.failures.pop(0)("could not serialize access")
        return "committed"


async def test_serialization_failures_and_deadlocks_are_retried_until_success() -> None:
    work = FlakyWork([asyncpg.SerializationError, asyncpg.DeadlockDetectedError])

    assert await retry_serializable(work, attempts=5, base_delay=0) == "committed"
    assert work.runs == 3


async def test_retries_run_out_into_a_conflict_error() -> None:
    work = FlakyWork([asyncpg.SerializationError] * 3)

    with pytest.raises(TransactionConflictError) as raised:
        await retry_serializable(work, attempts=3, base_delay=0)

    assert status_of(raised.value) == 500
    assert work.runs == 3


async def test_domain_errors_are_not_retried() -> None:
    runs = 0

    async def broke() -> None:
        nonlocal runs
        runs += 1
        raise InsufficientFundsError(5, 10)

    with pytest.raises(InsufficientFundsError):
        await retry_serializable(broke, attempts=5, base_delay=0)
    assert runs == 1


async def test_other_database_errors_are_not_retried() -> None:
    work = FlakyWork([asyncpg.UniqueViolationError])

    with pytest.raises(asyncpg.UniqueViolationError):
        await retry_serializable(work, attempts=5, base_delay=0)
    assert work.runs == 1
