"""How often do writes take the contended path of the write procedures (migration 0011)?

    python -m ammo.gate_watch [--pg URL] [--database NAME] [--seconds N] [--every S]

A transfer or purchase first takes the `write_gate` table in ROW EXCLUSIVE mode; only when an
account's lock is taken does it roll back and take the gate in EXCLUSIVE mode, which holds
every other write back until it commits. Nothing in the service counts the two paths, and
nothing should be added to it for a benchmark, so this samples `pg_locks` from outside:
every `--every` seconds, which transactions hold or await the gate in either mode. It
connects to the `postgres` database (pg_locks and pg_stat_database are cluster-wide), so its
own backend does not count as the benchmark database's CPU. Without `--database` it waits
for the next `shop_bench_*` database to appear (start it before `python -m ammo run`).

Every 5 s it prints: samples taken, the share of samples in which some write held or awaited
the gate EXCLUSIVE, the distinct transactions seen in each mode, and the database's commits
and rollbacks. A sample catches a transaction in proportion to how long it lasts, so
*contended seen / writers seen* overstates the share of contended writes (they last longer);
every contended write also rolls back once, so the rollbacks bound it from above too (40001
retries and refused writes roll back as well).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

import asyncpg

LOCKS = """
SELECT l.mode, l.virtualtransaction
FROM pg_locks l
WHERE l.locktype = 'relation' AND l.database = $1 AND l.relation = $2
  AND l.mode IN ('ExclusiveLock', 'RowExclusiveLock')
"""
COUNTERS = "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datid = $1"
NEWEST_BENCH = """
SELECT datname FROM pg_database
WHERE datname LIKE 'shop\\_bench\\_%' AND datname > $1
ORDER BY datname DESC LIMIT 1
"""


async def find_database(server: str, after: str, wait_seconds: float) -> str:
    conn = await asyncpg.connect(server)
    try:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            name = await conn.fetchval(NEWEST_BENCH, after)
            if name:
                return str(name)
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    raise TimeoutError("no new shop_bench_* database appeared")


async def gate_oid(server: str, database: str, wait_seconds: float = 120) -> tuple[int, int]:
    """(database oid, write_gate oid), once the database is migrated."""
    url = server.rsplit("/", 1)[0] + f"/{database}"
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            oid = await conn.fetchval("SELECT to_regclass('write_gate')::oid")
            if oid:
                db = await conn.fetchval(
                    "SELECT oid FROM pg_database WHERE datname = current_database()"
                )
                return int(db), int(oid)
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    raise TimeoutError(f"{database} has no write_gate table (not migrated?)")


async def watch(server: str, db: int, gate: int, seconds: float, every: float) -> None:
    conn = await asyncpg.connect(server)
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            counters = await conn.fetchrow(COUNTERS, db)
            if counters is None:
                print("the database is gone", flush=True)
                return
            samples = exclusive_samples = 0
            writers: set[str] = set()
            contended: set[str] = set()
            window = time.monotonic() + 5
            while time.monotonic() < window:
                rows = await conn.fetch(LOCKS, db, gate)
                samples += 1
                for mode, vxid in rows:
                    (contended if mode == "ExclusiveLock" else writers).add(vxid)
                exclusive_samples += any(mode == "ExclusiveLock" for mode, _ in rows)
                await asyncio.sleep(every)
            after = await conn.fetchrow(COUNTERS, db)
            if after is None:
                print("the database is gone", flush=True)
                return
            print(
                f"{time.strftime('%H:%M:%S')} samples {samples} exclusive-gate samples "
                f"{exclusive_samples} ({exclusive_samples / max(samples, 1):.2%}) "
                f"writers seen {len(writers)} contended seen {len(contended)} "
                f"commits +{after[0] - counters[0]} rollbacks +{after[1] - counters[1]}",
                flush=True,
            )
    finally:
        await conn.close()


async def main_async(args: argparse.Namespace) -> None:
    database = args.database or await find_database(args.pg, args.after, args.wait)
    print(f"watching {database}", flush=True)
    db, gate = await gate_oid(args.pg, database)
    await watch(args.pg, db, gate, args.seconds, args.every)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ammo.gate_watch", description=__doc__)
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432") + "/postgres",
    )
    parser.add_argument("--database", help="default: the next shop_bench_* database created")
    parser.add_argument("--after", default=time.strftime("shop_bench_%Y%m%d_%H%M%S", time.gmtime()))
    parser.add_argument("--wait", type=float, default=600)
    parser.add_argument("--seconds", type=float, default=900)
    parser.add_argument("--every", type=float, default=0.02)
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
