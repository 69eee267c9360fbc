"""What /api/info's read costs PostgreSQL, sent as a statement or as a call of wallet_json().

    .venv/bin/python -m ammo.wallet_read [--pg URL] [--calls 3000] [--rounds 2]

On a throwaway database (migrated, 2,000 employees with 5 counterparties and an item each)
one connection reads random wallets in a loop, four ways: the function's own query sent as
a statement (what the service sent before migration 0012) or `SELECT … FROM wallet_json()`,
each with asyncpg's statement cache on (named prepared statements: straight to PostgreSQL)
and off (unnamed statements: behind a transaction pooler). Per call it prints the wall time
and the CPU of the PostgreSQL backend (utime+stime from /proc), which moves far less than
wall time on a shared machine. The query is taken from the function's source in pg_proc,
so the two ways run the same SQL.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import time
import uuid

import asyncpg

from ammo import cpu
from shop.db import migrate

EMPLOYEES = 2000  # as SEED makes
CALL = "SELECT version, body FROM wallet_json($1, $2, $3)"

SEED = """
INSERT INTO users (username, password_hash, balance)
    SELECT 'w' || g, 'not-a-hash', 1000 FROM generate_series(1, 2000) g;
INSERT INTO transfer_totals (sender_id, receiver_id, amount)
    SELECT a.id, b.id, 5 FROM users a JOIN users b ON b.id BETWEEN a.id + 1 AND a.id + 5;
INSERT INTO inventory (user_id, item, quantity) SELECT id, 'cup', 2 FROM users;
ANALYZE;
"""


def statement_of(source: str) -> str:
    """The function's query with its parameters as $1..$3, as a client would send it."""
    query = source.split("RETURN QUERY", 1)[1].rsplit(";", 1)[0]
    for n, name in enumerate(("p_user_id", "p_username", "p_known_version"), start=1):
        query = re.sub(rf"\b{name}\b", f"${n}", query)
    return query.replace("$3 THEN", "$3::bigint THEN")


async def per_call(dsn: str, sql: str, cache: int, calls: int) -> tuple[float, float]:
    """(wall ms, backend CPU ms) per call, reading random wallets."""
    conn = await asyncpg.connect(dsn, statement_cache_size=cache)
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        for _ in range(50):  # warm caches and plans
            await conn.fetchrow(sql, 1, "w1", None)
        used, wall = cpu.seconds(pid), time.perf_counter()
        for _ in range(calls):
            user = random.randint(1, EMPLOYEES)
            await conn.fetchrow(sql, user, f"w{user}", None)
        wall, used = time.perf_counter() - wall, cpu.seconds(pid) - used
    finally:
        await conn.close()
    return wall / calls * 1000, used / calls * 1000


async def main(pg: str, calls: int, rounds: int) -> None:
    name = f"wallet_read_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = pg.rsplit("/", 1)[0] + "/" + name
    try:
        await asyncio.to_thread(migrate.apply, dsn)
        conn = await asyncpg.connect(dsn)
        await conn.execute(SEED)
        source = await conn.fetchval("SELECT prosrc FROM pg_proc WHERE proname = 'wallet_json'")
        await conn.close()
        ways = {
            "statement, cache on (direct)": (statement_of(source), 100),
            "wallet_json(), cache on (direct)": (CALL, 100),
            "statement, cache off (pooled)": (statement_of(source), 0),
            "wallet_json(), cache off (pooled)": (CALL, 0),
        }
        print(f"{calls} calls per measurement, {rounds} rounds, interleaved")
        print("| way | round | wall ms/call | PostgreSQL CPU ms/call |")
        print("|---|---|---|---|")
        for n in range(1, rounds + 1):
            for label, (sql, cache) in ways.items():
                wall, spent = await per_call(dsn, sql, cache, calls)
                print(f"| {label} | {n} | {wall:.3f} | {spent:.3f} |", flush=True)
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m ammo.wallet_read", description=__doc__)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.pg, args.calls, args.rounds))
