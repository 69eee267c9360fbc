"""The write path, old against new: many senders to one colleague, straight to PostgreSQL.

    .venv/bin/python ammo/write_path.py [--senders 50] [--transfers 3000] [--rounds 3]

Three throwaway databases on BENCH_PG: one migrated to the end (migration 0011: the write
gate and transaction-scoped locks), one with 0011 rolled back (0007's procedures: session
locks, released by a second statement on failure, as the service did), and one with the
rejected design of docs/reliability.md (try the advisory xact locks in a SERIALIZABLE
transaction; if taken, wait for them in a READ COMMITTED one, end it, try again; 40001 after
10 tries). Each round runs the same pattern on each, in turn: `--senders` connections, each
sending 1 coin at a time from a random one of 200 employees to the same colleague, until
`--transfers` are done; a 40001 or 40P01 is retried as the service does (up to 10 attempts,
full-jitter backoff). It prints, per design, transfers per second, the 40001/40P01 the client
saw, transfers given up, and the latency percentiles of whole transfers (retries included);
then medians and the new/old throughput ratio of each round. A short check, not a load test:
quote medians of rounds, and ratios within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from shop.db import migrate

RETRYABLE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
ATTEMPTS = 10
EMPLOYEES = 200
TRANSFER = "CALL transfer_coins($1, $2, $3, $4)"
UNLOCK_ALL = "SELECT pg_advisory_unlock_all()"
OLD_DESIGN = Path(__file__).parents[1] / "migrations" / "0011_pooler_safe_write_path.rollback.sql"
SETTINGS = {"lock_timeout": "2500", "statement_timeout": "5000"}
DESIGNS = ("old (0007)", "new (0011)", "rejected loop")

REJECTED_LOOP = """
CREATE OR REPLACE PROCEDURE transfer_coins(
    p_sender_id bigint, p_sender_name text, p_receiver_name text, p_amount bigint,
    INOUT receiver bigint DEFAULT NULL, INOUT balance bigint DEFAULT NULL,
    INOUT applied boolean DEFAULT false)
LANGUAGE plpgsql AS $$
DECLARE
    uncontended boolean;
    tries integer := 0;
BEGIN
    COMMIT;
    LOOP
        SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
        SELECT u.id, pg_try_advisory_xact_lock(least(p_sender_id, u.id))
                     AND pg_try_advisory_xact_lock(greatest(p_sender_id, u.id))
        INTO receiver, uncontended
        FROM users u WHERE u.username = p_receiver_name;
        IF receiver IS NULL OR receiver = p_sender_id THEN
            RETURN;
        END IF;
        EXIT WHEN uncontended;
        ROLLBACK;
        tries := tries + 1;
        IF tries >= 10 THEN
            RAISE EXCEPTION 'account still taken' USING ERRCODE = 'serialization_failure';
        END IF;
        PERFORM pg_advisory_xact_lock(least(p_sender_id, receiver)),
                pg_advisory_xact_lock(greatest(p_sender_id, receiver));
        COMMIT;
    END LOOP;
    UPDATE users u SET balance = u.balance - p_amount
    WHERE u.id = p_sender_id AND u.username = p_sender_name AND u.balance >= p_amount;
    applied := FOUND;
    IF applied THEN
        UPDATE users u SET balance = u.balance + p_amount WHERE u.id = receiver;
        INSERT INTO transfers (sender_id, receiver_id, amount)
        VALUES (p_sender_id, receiver, p_amount);
    END IF;
    COMMIT;
END
$$;
"""
"""Only the waiting differs from 0011's transfer_coins; the ledger aggregate is left out."""


@dataclass
class Result:
    per_second: float
    conflicts: int
    given_up: int
    p50_ms: float
    p99_ms: float


async def prepare(admin: str, design: str) -> tuple[str, str]:
    name = f"shop_writepath_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = admin.rsplit("/", 1)[0] + "/" + name
    await asyncio.to_thread(migrate.apply, url)
    change = {DESIGNS[0]: OLD_DESIGN.read_text(), DESIGNS[2]: REJECTED_LOOP}.get(design)
    if change is not None:
        conn = await asyncpg.connect(url)
        await conn.execute(change)
        await conn.close()
    return name, url


async def run(url: str, *, old: bool, senders: int, transfers: int) -> Result:
    conn = await asyncpg.connect(url)
    await conn.execute(
        "TRUNCATE users, transfers, purchases, transfer_totals, inventory RESTART IDENTITY CASCADE"
    )
    await conn.execute(
        "INSERT INTO users (username, password_hash, balance)"
        " SELECT 'e' || g, 'x', 1000000 FROM generate_series(1, $1) AS g",
        EMPLOYEES,
    )
    await conn.execute("VACUUM ANALYZE users")
    await conn.close()
    pool = await asyncpg.create_pool(
        url, min_size=senders, max_size=senders, server_settings=SETTINGS
    )
    left = transfers
    conflicts = given_up = 0
    latencies: list[float] = []

    async def sender() -> None:
        nonlocal left, conflicts, given_up
        async with pool.acquire() as c:
            while left > 0:
                left -= 1
                who = random.randint(2, EMPLOYEES)
                started = time.perf_counter()
                for attempt in range(1, ATTEMPTS + 1):
                    try:
                        await c.fetchrow(TRANSFER, who, f"e{who}", "e1", 1)
                        break
                    except RETRYABLE:
                        conflicts += 1
                        if old:
                            await c.execute(UNLOCK_ALL)
                        if attempt == ATTEMPTS:
                            given_up += 1
                            break
                        await asyncio.sleep(random.uniform(0, min(0.2, 0.002 * 2**attempt)))
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(senders)))
    elapsed = time.perf_counter() - started
    await pool.close()
    cuts = statistics.quantiles(latencies, n=100)
    return Result(transfers / elapsed, conflicts, given_up, cuts[49] * 1000, cuts[98] * 1000)


def row(design: str, r: Result) -> str:
    return (
        f"| {design} | {r.per_second:.0f} | {r.conflicts} | {r.given_up} "
        f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--transfers", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    admin = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432") + "/postgres"
    databases = {design: await prepare(admin, design) for design in DESIGNS}
    results: dict[str, list[Result]] = {design: [] for design in DESIGNS}
    try:
        print("| design | transfers/s | 40001/40P01 seen | given up | p50 ms | p99 ms |")
        print("|---|---|---|---|---|---|")
        for _ in range(args.rounds):
            for design, (_, url) in databases.items():
                old = design == DESIGNS[0]
                r = await run(url, old=old, senders=args.senders, transfers=args.transfers)
                results[design].append(r)
                print(row(design, r), flush=True)
    finally:
        conn = await asyncpg.connect(admin)
        for name, _ in databases.values():
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
    old, new = results[DESIGNS[0]], results[DESIGNS[1]]
    ratios = [n.per_second / o.per_second for o, n in zip(old, new, strict=True)]
    for design, rs in results.items():
        print(
            f"median {design}: {statistics.median(r.per_second for r in rs):.0f}/s,"
            f" 40001 {statistics.median(r.conflicts for r in rs):.0f},"
            f" given up {statistics.median(r.given_up for r in rs):.0f},"
            f" p99 {statistics.median(r.p99_ms for r in rs):.1f} ms"
        )
    print(f"new/old throughput per round: {', '.join(f'{x:.2f}' for x in ratios)}")


if __name__ == "__main__":
    asyncio.run(main())
