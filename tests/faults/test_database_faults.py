"""The database goes away, hangs or blocks: no hanging request, no lost or invented coin."""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg

from shop.errors import OutcomeUnknownError, ServiceUnavailableError, TransactionConflictError
from tests.faults.conftest import ACQUIRE_TIMEOUT, STATEMENT_TIMEOUT_MS
from tests.faults.proxy import DatabaseProxy
from tests.faults.traffic import (
    Outcome,
    Stream,
    Traffic,
    coins_lost,
    purchase_key,
    reconcile,
    transfer_key,
)
from tests.helpers import ShopClient, bearer, expect, login_all, run_shop
from tests.locks import hold_accounts

figures = logging.getLogger("tests.faults.figures")

OUTAGE_SECONDS = 1.5


async def test_database_outage_loses_no_acknowledged_coin(
    client: ShopClient, proxy: DatabaseProxy, db: asyncpg.Connection, database_url: str
) -> None:
    senders = [f"sender{i}" for i in range(6)]
    receivers = [f"receiver{i}" for i in range(6)]
    buyers = ["buyer0", "buyer1"]
    tokens = await login_all(client.http, senders + receivers + buyers)
    streams = [
        Stream(transfer_key(s, r), tokens[s], to_user=r, amount=i + 1)
        for i, (s, r) in enumerate(zip(senders, receivers, strict=True))
    ] + [Stream(purchase_key(b), tokens[b], item="pen") for b in buyers]
    traffic = Traffic(client.http, streams)

    traffic.start()
    try:
        await traffic.until(lambda t: t.total(Outcome.APPLIED) >= 50)
        await proxy.cut()
        cut_at = time.monotonic()
        await traffic.until(lambda t: t.total(Outcome.REFUSED, since=cut_at) >= 20)
        await asyncio.sleep(max(0.0, cut_at + OUTAGE_SECONDS - time.monotonic()))
        await proxy.restore()
        back_at = time.monotonic()
        await traffic.until(lambda t: t.total(Outcome.APPLIED, since=back_at) >= 50)
    finally:
        await traffic.stop()

    first_ok = traffic.first(Outcome.APPLIED, since=back_at)
    assert first_ok is not None
    recovery = first_ok - back_at
    failed = traffic.total(Outcome.REFUSED, since=cut_at) - traffic.total(
        Outcome.REFUSED, since=first_ok
    )
    result = await reconcile(db, traffic, unsure=frozenset({Outcome.UNKNOWN}))
    lost = await coins_lost(db)
    audit = await run_shop("audit", env={"DATABASE_URL": database_url})
    figures.info(
        "database outage: down %.2f s; recovered %.3f s after it came back; %d requests "
        "acknowledged, %d failed cleanly during the outage, %d unknown (%d of them applied); "
        "coins lost %d",
        back_at - cut_at,
        recovery,
        traffic.total(Outcome.APPLIED),
        failed,
        result.unknown,
        result.unknown_applied,
        lost,
    )
    assert traffic.anomalies == []
    assert traffic.total(Outcome.NO_RESPONSE) == 0
    assert result.mismatches == []
    assert failed > 0
    assert lost == 0
    assert audit.returncode == 0, audit.stdout + audit.stderr


async def test_lost_reply_to_a_transfer_is_reported_as_unknown_not_as_unchanged(
    client: ShopClient, proxy: DatabaseProxy, db: asyncpg.Connection, database_url: str
) -> None:
    tokens = await login_all(client.http, ["payer", "payee"])
    proxy.cut_after(b"payee")  # the CALL's arguments go through, then the link drops

    response = await client.http.post(
        "/api/sendCoin", json={"toUser": "payee", "amount": 7}, headers=bearer(tokens["payer"])
    )

    body = await expect(response, 500)
    assert body["errors"] == OutcomeUnknownError().message
    assert proxy.trapped.is_set()
    # The server did commit: claiming "nothing was changed" would have been false.
    assert await db.fetchval("SELECT count(*) FROM transfers WHERE amount = 7") == 1
    info = await client.info(tokens["payer"])
    assert info is not None
    assert info.coins == 993
    audit = await run_shop("audit", env={"DATABASE_URL": database_url})
    assert audit.returncode == 0, audit.stdout


async def test_hung_database_answers_500_instead_of_hanging(
    client: ShopClient, proxy: DatabaseProxy
) -> None:
    tokens = await login_all(client.http, ["waiting", "other"])
    proxy.freeze()

    async def timed_send() -> float:
        started = time.monotonic()
        body = {"toUser": "other", "amount": 1}
        headers = bearer(tokens["waiting"])
        response = await client.http.post("/api/sendCoin", json=body, headers=headers)
        error = await expect(response, 500)
        # Waiting for a connection: nothing was sent. Waiting on a sent CALL: who knows.
        assert error["errors"] in {ServiceUnavailableError().message, OutcomeUnknownError().message}
        return time.monotonic() - started

    # More requests than idle connections: some wait on a frozen connection (client-side
    # command timeout), the others on a connection attempt that never completes. Every one
    # gets its 500 (asserted in timed_send); the deadline is only a hang guard.
    elapsed = await asyncio.wait_for(asyncio.gather(*(timed_send() for _ in range(6))), 60)

    command_timeout = STATEMENT_TIMEOUT_MS / 1000 + 1
    figures.info(
        "hung database: 6 requests answered 500 in %.2f-%.2f s (command timeout %.1f s, "
        "acquire timeout %.1f s)",
        min(elapsed),
        max(elapsed),
        command_timeout,
        ACQUIRE_TIMEOUT,
    )

    await proxy.restore()
    await client.send_coin(tokens["waiting"], "other", 1)


async def test_writer_blocked_on_an_account_gives_up_at_the_lock_timeout(
    client: ShopClient, db: asyncpg.Connection
) -> None:
    tokens = await login_all(client.http, ["blocked", "target"])
    payer_id = await db.fetchval("SELECT id FROM users WHERE username = 'blocked'")
    held = await hold_accounts(db, payer_id)  # a stuck writer of this account

    started = time.monotonic()
    body = await client.send_coin(tokens["blocked"], "target", 5, expected_status=500)
    elapsed = time.monotonic() - started

    lock_timeout = STATEMENT_TIMEOUT_MS / 2 / 1000
    figures.info("blocked writer: 500 after %.2f s (lock timeout %.1f s)", elapsed, lock_timeout)
    assert body is not None
    assert body["errors"] == TransactionConflictError().message
    assert elapsed >= lock_timeout  # it waited for the lock, then gave up (load only adds)
    assert await db.fetchval("SELECT count(*) FROM transfers") == 0

    await held.rollback()
    await client.send_coin(tokens["blocked"], "target", 5)
