"""The write path, old against new: many senders to one colleague, straight to PostgreSQL.

    .venv/bin/python ammo/write_path.py [--senders 50] [--transfers 3000] [--rounds 3]

Two throwaway databases on BENCH_PG: one migrated to the end (migration 0011: the write gate
and transaction-scoped locks), one with 0011 rolled back (0007's procedures: session locks,
released by a second statement on failure, as the service did). Each round runs the same
pattern on both, alternately: `--senders` connections, each sending 1 coin at a time from a
random one of 200 employees to the same colleague, until `--transfers` are done; a 40001 or
40P01 is retried as the service does (up to 10 attempts, full-jitter backoff). It prints, per
design, transfers per second, the 40001/40P01 the client saw, transfers given up, and the
latency percentiles of whole transfers (retries included); then medians and the new/old
ratio of each round. A short check, not a load test: the figures quote medians of rounds.
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


@dataclass
class Result:
    per_second: float
    conflicts: int
    given_up: int
    p50_ms: float
    p99_ms: float


async def prepare(admin: str, old: bool) -> tuple[str, str]:
    name = f"shop_writepath_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = admin.rsplit("/", 1)[0] + "/" + name
    await asyncio.to_thread(migrate.apply, url)
    if old:
        conn = await asyncpg.connect(url)
        await conn.execute(OLD_DESIGN.read_text())
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
    databases = {old: await prepare(admin, old) for old in (True, False)}
    results: dict[bool, list[Result]] = {True: [], False: []}
    try:
        print("| design | transfers/s | 40001/40P01 seen | given up | p50 ms | p99 ms |")
        print("|---|---|---|---|---|---|")
        for _ in range(args.rounds):
            for old in (True, False):
                r = await run(
                    databases[old][1], old=old, senders=args.senders, transfers=args.transfers
                )
                results[old].append(r)
                print(row("old (0007)" if old else "new (0011)", r), flush=True)
    finally:
        conn = await asyncpg.connect(admin)
        for name, _ in databases.values():
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
    ratios = [
        n.per_second / o.per_second for o, n in zip(results[True], results[False], strict=True)
    ]
    for old in (True, False):
        rs = results[old]
        design = "old" if old else "new"
        print(
            f"median {design}: {statistics.median(r.per_second for r in rs):.0f}/s,"
            f" 40001 {statistics.median(r.conflicts for r in rs):.0f},"
            f" given up {statistics.median(r.given_up for r in rs):.0f},"
            f" p99 {statistics.median(r.p99_ms for r in rs):.1f} ms"
        )
    print(f"new/old throughput per round: {', '.join(f'{x:.2f}' for x in ratios)}")


if __name__ == "__main__":
    asyncio.run(main())
