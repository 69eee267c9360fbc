"""Compare the cost of a /api/history page for an employee with 20,000 movements and one with 20.

    python -m ammo.probe_history [ADMIN_DSN] [OUT_JSON]

Standalone: it creates a throwaway database on the server ADMIN_DSN points at (default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it, seeds it, starts `shop serve`
on a free port, measures, stops the server and drops the database.

The ledger: `heavy` has 20,000 movements (7,000 sent, 7,000 received, 6,000 purchases) and
`light` 20, interleaved with 250,000 movements of 1,000 other employees. Pages of 20:
- light's first page, heavy's first page, heavy's middle page (after its first 10,000
  movements) and deep page (after 19,960), reached with the cursors the API gives;
- server side: EXPLAIN (ANALYZE, TIMING OFF) of the service's own page statement, its
  execution time and the ledger rows it read;
- end to end: sequential GETs over one keep-alive connection (no concurrency).
The three pages are measured in turns, so machine noise hits them alike; REPEATS rounds of
RUNS each, and every figure is the median of the rounds' medians, ratios taken within a round.
A control then runs the same statement with the indexes of migration 0010 swapped for the
single-column ones it replaced (in a transaction rolled back after), to show the probe can
tell a page that grows with the history from one that does not.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from yarl import URL

from shop.db import migrate
from shop.models import encode_cursor
from shop.repositories.history import NEWEST, PAGE

RUNS = 200
REPEATS = 3
WARMUP = 30
PAGE_SIZE = 20
ROUNDS = 10  # the seed is written in rounds, so heavy's movements interleave with the others'
OTHERS = 1000
COLLEAGUES = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# $1: the employee; $2: the first other employee's id; $3: how many others. Transfers: $4
# colleagues, $5 movements each way, $6 among the others. Purchases: $4 by $1, $5 by others.
SEED_TRANSFERS = """
INSERT INTO transfers (sender_id, receiver_id, amount)
SELECT s, r, 1 FROM (
    SELECT $1::bigint AS s, $2 + floor(random() * $4::int)::bigint AS r
    FROM generate_series(1, $5)
    UNION ALL SELECT $2 + floor(random() * $4::int)::bigint, $1 FROM generate_series(1, $5)
    UNION ALL SELECT s, s + 1 + floor(random() * 10)::bigint FROM (
        SELECT $2 + floor(random() * ($3::int - 11))::bigint AS s FROM generate_series(1, $6)) o
) m ORDER BY random()
"""
SEED_PURCHASES = """
INSERT INTO purchases (user_id, item, price)
SELECT u, 'pen', 10 FROM (
    SELECT $1::bigint AS u FROM generate_series(1, $4)
    UNION ALL SELECT $2 + floor(random() * $3::int)::bigint FROM generate_series(1, $5)
) m ORDER BY random()
"""
OTHER_EMPLOYEES = """
INSERT INTO users (username, password_hash, balance)
SELECT 'other' || n, 'x', 10000000 FROM generate_series(1, $1) n RETURNING id
"""


async def seed(conn: asyncpg.Connection, heavy: int, light: int) -> None:
    """Everyone else by SQL; the balances are not kept (only the ledger's shape matters)."""
    first = await conn.fetchval(OTHER_EMPLOYEES, OTHERS)
    for round_ in range(ROUNDS):
        await conn.execute(SEED_TRANSFERS, heavy, first, OTHERS, COLLEAGUES, 700, 20_000)
        await conn.execute(SEED_PURCHASES, heavy, first, OTHERS, 600, 5_000)
        if round_ == ROUNDS // 2:  # light: 7 sent, 7 received, 6 purchases, amid the rest
            await conn.execute(SEED_TRANSFERS, light, first, OTHERS, COLLEAGUES, 7, 0)
            await conn.execute(SEED_PURCHASES, light, first, OTHERS, 6, 0)
    for table in ("transfers", "purchases", "users"):
        await conn.execute(f"VACUUM ANALYZE {table}")


async def movement_seqs(conn: asyncpg.Connection, user_id: int) -> list[int]:
    """The employee's ledger positions, newest first (for the cursors and a sanity check)."""
    rows = await conn.fetch(
        "SELECT seq FROM transfers WHERE sender_id = $1 OR receiver_id = $1"
        " UNION ALL SELECT seq FROM purchases WHERE user_id = $1 ORDER BY 1 DESC",
        user_id,
    )
    return [r[0] for r in rows]


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


async def sql_round(
    conn: asyncpg.Connection, pages: dict[str, tuple[int, str, int]]
) -> dict[str, dict[str, float]]:
    """Execution time (ms) of the page statement, and the ledger rows one execution reads."""
    explain = await conn.prepare("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) " + PAGE)
    times: dict[str, list[float]] = {name: [] for name in pages}
    read: dict[str, int] = {}
    for n in range(RUNS + WARMUP):
        for name, (user_id, username, before) in pages.items():
            plan = json.loads(await explain.fetchval(user_id, username, before, PAGE_SIZE + 1))[0]
            if n >= WARMUP:
                times[name].append(plan["Execution Time"])
            read[name] = ledger_rows_read(plan["Plan"])
    return {
        name: {"median_ms": median(times[name]), "ledger_rows_read": read[name]} for name in pages
    }


# Before 0010: the single-column indexes, no `seq` index. In a transaction rolled back after.
WITHOUT_SEQ_INDEXES = """
CREATE INDEX ON transfers (sender_id);
CREATE INDEX ON transfers (receiver_id);
CREATE INDEX ON purchases (user_id);
DROP INDEX transfers_sender_id_seq_idx, transfers_receiver_id_seq_idx, purchases_user_id_seq_idx;
ANALYZE transfers, purchases;
"""
CONTROL_RUNS = 30


async def control_round(
    conn: asyncpg.Connection, pages: dict[str, tuple[int, str, int]]
) -> dict[str, dict[str, float]]:
    """The same statement without the indexes of 0010: shows what the probe can tell apart."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute(WITHOUT_SEQ_INDEXES)
        explain = await conn.prepare(
            "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) " + PAGE
        )
        times: dict[str, list[float]] = {name: [] for name in pages}
        read: dict[str, int] = {}
        for _ in range(CONTROL_RUNS):
            for name, (user_id, username, before) in pages.items():
                plan = json.loads(await explain.fetchval(user_id, username, before, PAGE_SIZE + 1))[
                    0
                ]
                times[name].append(plan["Execution Time"])
                read[name] = ledger_rows_read(plan["Plan"])
    finally:
        await transaction.rollback()
    return {
        name: {"median_ms": median(times[name]), "ledger_rows_read": read[name]} for name in pages
    }


def ledger_rows_read(node: dict[str, Any]) -> int:
    """Ledger rows the plan touched: those its scans returned plus those they filtered out."""
    own = 0
    if node.get("Relation Name") in {"transfers", "purchases"}:
        examined = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
        own = int(examined * node["Actual Loops"])
    return own + sum(ledger_rows_read(child) for child in node.get("Plans", []))


async def http_round(
    base: str, tokens: dict[str, str], queries: dict[str, str]
) -> dict[str, dict[str, float]]:
    times: dict[str, list[float]] = {name: [] for name in queries}
    sizes: dict[str, int] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        for n in range(RUNS + WARMUP):
            for name, query in queries.items():
                headers = {"Authorization": f"Bearer {tokens[name]}"}
                started = time.perf_counter()
                async with session.get(f"{base}/api/history?{query}", headers=headers) as resp:
                    body = await resp.read()
                    resp.raise_for_status()
                if n >= WARMUP:
                    times[name].append((time.perf_counter() - started) * 1000)
                sizes[name] = len(json.loads(body)["entries"])
    return {name: {"median_ms": median(times[name]), "entries": sizes[name]} for name in queries}


async def login(base: str, username: str) -> str:
    async with aiohttp.ClientSession() as session:
        body = {"username": username, "password": f"{username}-password"}
        async with session.post(f"{base}/api/auth", json=body) as resp:
            resp.raise_for_status()
            return (await resp.json())["token"]


async def wait_ready(base: str, server: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(60), aiohttp.ClientSession() as session:
        while True:
            if server.returncode is not None:
                raise RuntimeError("shop serve exited")
            try:
                async with session.get(f"{base}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


async def measure(dsn: str) -> dict[str, object]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "BCRYPT_ROUNDS": "4",
        "WORKERS": "1",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shop",
        "serve",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        await wait_ready(base, server)
        tokens = {"heavy": await login(base, "heavy"), "light": await login(base, "light")}
        conn = await asyncpg.connect(dsn)
        try:
            ids = {
                r["username"]: r["id"]
                for r in await conn.fetch(
                    "SELECT id, username FROM users WHERE username IN ('heavy', 'light')"
                )
            }
            started = time.perf_counter()
            await seed(conn, ids["heavy"], ids["light"])
            seeded_s = round(time.perf_counter() - started, 1)
            heavy_seqs = await movement_seqs(conn, ids["heavy"])
            light_seqs = await movement_seqs(conn, ids["light"])
            ledger = await conn.fetchval(
                "SELECT (SELECT count(*) FROM transfers) + (SELECT count(*) FROM purchases)"
            )
            deep_before = heavy_seqs[len(heavy_seqs) - 2 * PAGE_SIZE - 1]  # 40 older remain
            middle_before = heavy_seqs[len(heavy_seqs) // 2 - 1]
            pages = {
                "light_first": (ids["light"], "light", NEWEST),
                "heavy_first": (ids["heavy"], "heavy", NEWEST),
                "heavy_middle": (ids["heavy"], "heavy", middle_before),
                "heavy_deep": (ids["heavy"], "heavy", deep_before),
            }
            queries = {
                "light_first": f"limit={PAGE_SIZE}",
                "heavy_first": f"limit={PAGE_SIZE}",
                "heavy_middle": f"limit={PAGE_SIZE}&before={encode_cursor(middle_before)}",
                "heavy_deep": f"limit={PAGE_SIZE}&before={encode_cursor(deep_before)}",
            }
            tokens["light_first"] = tokens["light"]
            for name in ("heavy_first", "heavy_middle", "heavy_deep"):
                tokens[name] = tokens["heavy"]
            rounds: list[dict[str, dict[str, dict[str, float]]]] = []
            for _ in range(REPEATS):
                sql = await sql_round(conn, pages)
                http = await http_round(base, tokens, queries)
                rounds.append({"sql": sql, "http": http})
            control = await control_round(conn, pages)
        finally:
            await conn.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        async with asyncio.timeout(30):
            await server.wait()

    def med(layer: str, page: str) -> float:
        return median([r[layer][page]["median_ms"] for r in rounds])

    def ratio(layer: str, page: str) -> float:
        return median(
            [r[layer][page]["median_ms"] / r[layer]["light_first"]["median_ms"] for r in rounds]
        )

    names = list(pages)
    return {
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "movements": {"heavy": len(heavy_seqs), "light": len(light_seqs), "ledger": ledger},
        "seed_seconds": seeded_s,
        "page_size": PAGE_SIZE,
        "middle_page_starts_after": len(heavy_seqs) // 2,
        "deep_page_starts_after": len(heavy_seqs) - 2 * PAGE_SIZE,
        "runs_per_round": RUNS,
        "rounds": REPEATS,
        "sql_median_ms": {n: med("sql", n) for n in names},
        "sql_ledger_rows_read": {n: rounds[-1]["sql"][n]["ledger_rows_read"] for n in names},
        "http_median_ms": {n: med("http", n) for n in names},
        "http_entries": {n: rounds[-1]["http"][n]["entries"] for n in names},
        "ratio_to_light_first": {
            "sql": {n: round(ratio("sql", n), 2) for n in names[1:]},
            "http": {n: round(ratio("http", n), 2) for n in names[1:]},
        },
        "control_without_seq_indexes": {
            "runs": CONTROL_RUNS,
            "sql": control,
            "ratio_to_light_first": {
                n: round(control[n]["median_ms"] / control["light_first"]["median_ms"], 2)
                for n in names[1:]
            },
        },
        "each_round": rounds,
    }


async def run(admin: str) -> dict[str, object]:
    name = f"shop_probe_history_{uuid.uuid4().hex[:8]}"
    admin_conn = await asyncpg.connect(admin)
    await admin_conn.execute(f'CREATE DATABASE "{name}"')
    server_url = URL(admin)
    dsn = str(server_url.with_path(f"/{name}").with_query(server_url.query))
    try:
        await asyncio.to_thread(migrate.apply, dsn)
        return await measure(dsn)
    finally:
        await admin_conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin_conn.close()


def main() -> int:
    admin = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/postgres"
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "ammo/results/history_pages.json")
    result = asyncio.run(run(admin))
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "each_round"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
