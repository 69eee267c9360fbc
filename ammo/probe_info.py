"""Compare the cost of /api/info for the long-history employee and for a new one.

    DATABASE_URL=... python -m ammo.probe_info http://127.0.0.1:8080

Two measurements, each alternating the two employees so that machine noise hits both alike:
- server-side: EXPLAIN (ANALYZE, TIMING OFF) of the service's own info statement, median
  execution time over many runs;
- end to end: sequential GET /api/info over one keep-alive connection (no concurrency), so
  the time is the server's work plus a loopback round trip.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time

import aiohttp
import asyncpg

from ammo import accounts
from shop.repositories.wallet import WALLET_JSON


async def token(session: aiohttp.ClientSession, base: str, user_id: int) -> str:
    body = {"username": accounts.name(user_id), "password": accounts.PASSWORD}
    async with session.post(f"{base}/api/auth", json=body) as resp:
        resp.raise_for_status()
        return (await resp.json())["token"]


async def http_times(base: str, ids: list[int], runs: int) -> dict[int, dict[str, float]]:
    times: dict[int, list[float]] = {i: [] for i in ids}
    sizes: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        headers = {i: {"Authorization": f"Bearer {await token(session, base, i)}"} for i in ids}
        for n in range(runs + 50):
            for i in ids:
                started = time.perf_counter()
                async with session.get(f"{base}/api/info", headers=headers[i]) as resp:
                    body = await resp.read()
                    resp.raise_for_status()
                if n >= 50:  # the first ones warm the statement cache
                    times[i].append((time.perf_counter() - started) * 1000)
                sizes[i] = len(body)
    return {i: summary(times[i]) | {"body_bytes": sizes[i]} for i in ids}


async def explain_times(
    dsn: str, ids: list[int], runs: int, *, held: bool
) -> dict[int, dict[str, float]]:
    """The statement's execution time: rendering the body, or (held) confirming a copy."""
    times: dict[int, list[float]] = {i: [] for i in ids}
    conn = await asyncpg.connect(dsn)
    try:
        explain = await conn.prepare(
            "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) " + WALLET_JSON
        )
        versions = {
            i: await conn.fetchval("SELECT xmin::text::bigint FROM users WHERE id = $1", i)
            if held
            else None
            for i in ids
        }
        for n in range(runs + 20):
            for i in ids:
                plan = json.loads(await explain.fetchval(i, accounts.name(i), versions[i]))
                if n >= 20:
                    times[i].append(plan[0]["Execution Time"])
    finally:
        await conn.close()
    return {i: summary(times[i]) for i in ids}


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[int(0.9 * len(ordered))], 3),
        "runs": len(ordered),
    }


async def measure(base: str, dsn: str, runs: int = 400) -> dict[str, object]:
    """Both measurements, `runs` times each per employee, and their ratios."""
    ids = [accounts.HEAVY, accounts.NEWCOMER]
    server = await explain_times(dsn, ids, runs, held=False)
    confirm = await explain_times(dsn, ids, runs, held=True)
    http = await http_times(base, ids, runs)
    heavy, new = accounts.HEAVY, accounts.NEWCOMER
    result: dict[str, object] = {
        "heavy": accounts.name(heavy),
        "newcomer": accounts.name(new),
        "sql": {"heavy": server[heavy], "newcomer": server[new]},
        "sql_held": {"heavy": confirm[heavy], "newcomer": confirm[new]},
        "http": {"heavy": http[heavy], "newcomer": http[new]},
        "sql_ratio": round(server[heavy]["median_ms"] / server[new]["median_ms"], 2),
        "http_ratio": round(http[heavy]["median_ms"] / http[new]["median_ms"], 2),
    }
    return result


def main() -> int:
    result = asyncio.run(measure(sys.argv[1], os.environ["DATABASE_URL"]))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
