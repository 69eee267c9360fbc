"""How long migration 0010 holds the ledger, against 0007's plain rewrite of the same tables.

    python -m ammo.probe_history_migration [ADMIN_DSN] [OUT_JSON]

Standalone: a throwaway database on ADMIN_DSN's server, migrated, filled with about
1,000,000 ledger rows (800,000 transfers, 200,000 purchases among 10,000 employees), then
REPEATS times: roll back 0007 and all after it, apply them again one by one, timing 0007 and
0010. Both hold
ACCESS EXCLUSIVE on the ledger tables while they run, so their times are how long writers
wait. The ratio within each repetition is the figure to quote on a shared machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

import asyncpg
from yarl import URL

from shop.db import migrate

REPEATS = 3

EMPLOYEES = """
INSERT INTO users (username, password_hash, balance)
SELECT 'u' || n, 'x', 1000000 FROM generate_series(1, 10000) n
"""
TRANSFERS = """
INSERT INTO transfers (sender_id, receiver_id, amount)
SELECT 1 + n % 9999, 1 + (n + 1 + n % 7) % 10000, 1 FROM generate_series(1, 800000) n
WHERE 1 + n % 9999 <> 1 + (n + 1 + n % 7) % 10000
"""
PURCHASES = """
INSERT INTO purchases (user_id, item, price)
SELECT 1 + n % 10000, 'pen', 10 FROM generate_series(1, 200000) n
"""
LEDGER_ROWS = "SELECT (SELECT count(*) FROM transfers) + (SELECT count(*) FROM purchases)"


async def fill(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in (EMPLOYEES, TRANSFERS, PURCHASES, "VACUUM ANALYZE"):
            await conn.execute(statement)
        return await conn.fetchval(LEDGER_ROWS)
    finally:
        await conn.close()


def measure(dsn: str) -> dict[str, object]:
    applied = migrate.apply(dsn)
    rows = asyncio.run(fill(dsn))
    redo = applied[applied.index("0007_money_bigint") :]  # 0007 and everything after it
    runs = []
    for _ in range(REPEATS):
        migrate.rollback(dsn, len(redo))
        load = round(os.getloadavg()[0], 1)
        seconds: dict[str, float] = {}
        for step in redo:  # in the order they were applied, one at a time
            started = time.perf_counter()
            if migrate.apply(dsn, 1) != [step]:
                raise RuntimeError(f"expected to apply {step}")
            seconds[step] = time.perf_counter() - started
        rewrite, history = seconds["0007_money_bigint"], seconds["0010_history_index"]
        runs.append(
            {
                "load_1m": load,
                "0007_s": round(rewrite, 1),
                "0010_s": round(history, 1),
                "ratio": round(history / rewrite, 2),
            }
        )
    ratios = sorted(float(r["ratio"]) for r in runs)
    return {
        "ledger_rows": rows,
        "cpus": os.cpu_count(),
        "runs": runs,
        "median_ratio": ratios[len(ratios) // 2],
    }


async def admin(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def main() -> int:
    server = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/postgres"
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "ammo/results/history_migration.json")
    name = f"shop_probe_migration_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin(server, f'CREATE DATABASE "{name}"'))
    url = URL(server)
    try:
        result = measure(str(url.with_path(f"/{name}").with_query(url.query)))
    finally:
        asyncio.run(admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
