"""`shop worker` as a real process: grants to all applied exactly once, a SIGKILL mid-grant
and a restart included; expired idempotency keys and login attempts removed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import asyncpg
import pytest

from shop.repositories import grants
from shop.services.audit import run_audit
from tests.conftest import TEST_SECRET

AMOUNT = 7
DONE = "SELECT done_at IS NOT NULL FROM grants WHERE id = $1"


class Worker:
    """`python -m shop worker` in its own process group; output to a file, never a pipe."""

    def __init__(self, database_url: str, **env: str) -> None:
        self._output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shop", "worker"],
            env={
                **os.environ,
                "DATABASE_URL": database_url,
                "JWT_SECRET": TEST_SECRET,
                "LOG_LEVEL": "INFO",
                **env,
            },
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        self._output.seek(0)
        return self._output.read()

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM and wait; whatever happens, nothing is left running."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.kill()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.returncode


@pytest.fixture
def workers(database_url: str) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()
        worker._output.close()


async def seed(db: asyncpg.Connection, count: int) -> None:
    await db.execute(
        "INSERT INTO users (username, password_hash, balance, username_skeleton)"
        " SELECT 'emp' || g, 'x', 1000, 'emp' || g FROM generate_series(1, $1) g",
        count,
    )


async def accept_grant_to_all(db: asyncpg.Connection) -> int:
    """What POST /api/admin/grants with toAll does in its transaction."""
    recipients, up_to = await grants.everyone(db)
    return await grants.create(
        db,
        granted_by=1,
        amount=AMOUNT,
        reason="for everyone",
        to_all=True,
        recipients=recipients,
        up_to=up_to,
    )


async def wait_until(
    db: asyncpg.Connection, query: str, *args: object, seconds: float = 120
) -> None:
    async with asyncio.timeout(seconds):
        while not await db.fetchval(query, *args):  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.05)


async def test_a_grant_to_all_is_applied_by_the_worker_to_everyone_once(
    db: asyncpg.Connection, database_url: str, workers: list[Worker]
) -> None:
    await seed(db, 2500)
    grant_id = await accept_grant_to_all(db)
    await seed_late(db)  # registered after the grant was accepted: not covered

    workers.append(Worker(database_url, WORKER_BATCH_SIZE="1000"))
    await wait_until(db, DONE, grant_id)

    state = await grants.find(db, grant_id)
    assert state is not None
    assert (state.recipients, state.granted, state.done) == (2500, 2500, True)
    assert await db.fetchval("SELECT count(*) FROM users WHERE balance = 1000 + $1", AMOUNT) == 2500
    assert await db.fetchval("SELECT balance FROM users WHERE username = 'late'") == 1000
    report = await run_audit(db)
    assert report.ok, report.render()
    assert workers[0].stop() == 0, workers[0].output()


async def seed_late(db: asyncpg.Connection) -> None:
    await db.execute(
        "INSERT INTO users (username, password_hash, balance, username_skeleton)"
        " VALUES ('late', 'x', 1000, 'late')"
    )


async def test_a_worker_killed_mid_grant_and_restarted_credits_everyone_exactly_once(
    db: asyncpg.Connection, database_url: str, workers: list[Worker]
) -> None:
    employees = 20_000
    await seed(db, employees)
    grant_id = await accept_grant_to_all(db)
    small_batches = {"WORKER_BATCH_SIZE": "100", "WORKER_BATCH_PAUSE_SECONDS": "0.01"}

    first = Worker(database_url, **small_batches)
    workers.append(first)
    await wait_until(db, "SELECT count(*) >= 1000 FROM grant_credits")
    first.kill()

    credited = await db.fetchval("SELECT count(*) FROM grant_credits")
    assert 0 < credited < employees, "the kill must land mid-grant"
    raised = await db.fetchval("SELECT count(*) FROM users WHERE balance = 1000 + $1", AMOUNT)
    assert raised == credited  # every committed batch raised exactly its credits
    assert await db.fetchval("SELECT count(*) FROM users WHERE balance > 1000 + $1", AMOUNT) == 0

    workers.append(Worker(database_url, **small_batches))
    await wait_until(db, DONE, grant_id)

    assert await db.fetchval("SELECT count(*) FROM grant_credits") == employees
    assert (
        await db.fetchval("SELECT count(*) FROM users WHERE balance = 1000 + $1", AMOUNT)
        == employees
    )
    assert await db.fetchval("SELECT sum(balance) FROM users") == employees * (1000 + AMOUNT)
    state = await grants.find(db, grant_id)
    assert state is not None
    assert (state.granted, state.done) == (employees, True)
    report = await run_audit(db)
    assert report.ok, report.render()


async def test_the_worker_removes_expired_keys_and_login_attempts_nobody_needs(
    db: asyncpg.Connection, database_url: str, workers: list[Worker]
) -> None:
    await seed(db, 1)
    await db.execute(
        "INSERT INTO idempotency_keys (user_id, key, fingerprint, status, body, created_at)"
        " VALUES (1, 'old', '\\x00', 200, '', now() - interval '25 hours'),"
        "        (1, 'new', '\\x00', 200, '', now() - interval '23 hours')"
    )
    await db.execute(
        "INSERT INTO login_attempts"
        " (username, client, failures, window_start, last_attempt, blocked_until, last_success)"
        " VALUES"
        " ('emp1', 'quiet', 3, now(), now() - interval '2 hours', NULL, NULL),"
        " ('emp1', 'recent', 3, now(), now() - interval '1 minute', NULL, NULL),"
        " ('emp1', 'blocked', 9, now(), now() - interval '2 hours', now() + interval '1 hour',"
        "  NULL),"
        " ('emp1', 'owner', 0, now(), now() - interval '2 days', NULL, now() - interval '2 days'),"
        " ('emp1', '', 40, now() - interval '2 hours', now(), NULL, NULL),"
        " ('emp2', '', 40, now() - interval '1 minute', now(), NULL, NULL)"
    )

    workers.append(Worker(database_url))
    await wait_until(
        db, "SELECT NOT EXISTS (SELECT FROM idempotency_keys WHERE key = 'old')", seconds=60
    )
    await wait_until(
        db, "SELECT NOT EXISTS (SELECT FROM login_attempts WHERE client = 'quiet')", seconds=60
    )

    assert [r["key"] for r in await db.fetch("SELECT key FROM idempotency_keys")] == ["new"]
    kept = await db.fetch("SELECT username, client FROM login_attempts ORDER BY 1, 2")
    assert [tuple(r) for r in kept] == [
        ("emp1", "blocked"),
        ("emp1", "owner"),
        ("emp1", "recent"),
        ("emp2", ""),
    ]
    assert workers[0].stop() == 0, workers[0].output()
