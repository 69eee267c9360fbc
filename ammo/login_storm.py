"""A legitimate login's latency during a 300-login storm, for two checkouts in one run.

    .venv/bin/python ammo/login_storm.py OUT.json before=DIR after=DIR [--storms 3]

For each checkout DIR (a git worktree; its `shop` package is run from DIR), in turn: a fresh
database on BENCH_PG, `shop migrate`, `shop serve` with 2 workers at the production bcrypt
cost, one returning employee registered; then `--storms` times: 300 first logins of new
names fired at once, and the returning employee logging in 10 times, one every 0.5 s from
the storm's start, each timed from its own start. Reports the returning employee's
p50/p99/max and the storm's outcomes. Everything it starts it stops, and it drops its
databases. Only loopback traffic; bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

STORM = 300
PROBES = 10
PROBE_GAP = 0.5
"""The returning employee logs in PROBES times, one every PROBE_GAP s from the storm's start."""
CLIENT_TIMEOUT = 600.0
"""Seconds a client waits for any one login (a bound, not a figure)."""
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
SECRET = "login-storm-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{PG}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def serving(source: Path, dsn: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "JWT_SECRET": SECRET,
        "WORKERS": "2",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "BCRYPT_ROUNDS": "10",
        "LOG_LEVEL": "WARNING",
        "ACCESS_LOG": "false",
    }
    run = [sys.executable, "-m", "shop"]
    subprocess.run([*run, "migrate"], cwd=source, env=env, check=True)  # noqa: S603
    process = subprocess.Popen([*run, "serve"], cwd=source, env=env)  # noqa: S603
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=60)


async def wait_ready(http: aiohttp.ClientSession, url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(url + "/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.2)
    raise TimeoutError("server did not start")


async def login(http: aiohttp.ClientSession, url: str, name: str, password: str) -> int:
    """The status, or 0 when no answer came within the client's timeout."""
    try:
        async with http.post(
            url + "/api/auth", json={"username": name, "password": password}
        ) as response:
            await response.read()
            return response.status
    except (TimeoutError, aiohttp.ClientError):
        return 0


async def timed_login(http: aiohttp.ClientSession, url: str) -> tuple[int, float]:
    started = time.perf_counter()
    status = await login(http, url, "returning", "returning-password")
    return status, (time.perf_counter() - started) * 1000


async def storm_round(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    started = time.perf_counter()
    storm = [
        asyncio.create_task(login(http, url, f"storm-{tag}-{n}", "storm-password"))
        for n in range(STORM)
    ]
    probes = []
    for _ in range(PROBES):  # the returning employee tries every PROBE_GAP s, behind the storm
        await asyncio.sleep(PROBE_GAP)
        probes.append(asyncio.create_task(timed_login(http, url)))
    legit_status, legit = zip(*(await asyncio.gather(*probes)), strict=True)
    statuses = await asyncio.gather(*storm)
    return {
        "legit_ms": list(legit),
        "legit_status": list(legit_status),
        "storm_seconds": time.perf_counter() - started,
        "storm_status": {str(s): statuses.count(s) for s in sorted(set(statuses))},
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def measure(source: Path, storms: int) -> dict[str, Any]:
    name = f"shop_storm_{uuid.uuid4().hex[:10]}"
    await admin(f'CREATE DATABASE "{name}"')
    try:
        with serving(source, f"{PG}/{name}") as url:
            timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT)
            connector = aiohttp.TCPConnector(limit=0, force_close=True)
            async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
                await wait_ready(http, url)
                if await login(http, url, "returning", "returning-password") != 200:
                    raise RuntimeError("the returning employee could not register")
                rounds = [await storm_round(http, url) for _ in range(storms)]
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    legit = [ms for r in rounds for ms in r["legit_ms"]]
    statuses = [s for r in rounds for s in r["legit_status"]]
    return {
        "source": str(source),
        "legit_logins": len(legit),
        "legit_ok": statuses.count(200),
        "legit_p50_ms": statistics.median(legit),
        "legit_p99_ms": pct(legit, 0.99),
        "legit_max_ms": max(legit),
        "rounds": rounds,
    }


def main() -> int:
    out, *variants = sys.argv[1:]
    storms = 3
    if "--storms" in variants:
        at = variants.index("--storms")
        storms = int(variants[at + 1])
        del variants[at : at + 2]
    results = {}
    for variant in variants:
        label, _, directory = variant.partition("=")
        results[label] = r = asyncio.run(measure(Path(directory).resolve(), storms))
        print(
            f"{label}: {r['legit_logins']} returning logins ({r['legit_ok']} ok) during"
            f" {storms} storms of {STORM}: p50 {r['legit_p50_ms']:.0f} ms,"
            f" p99 {r['legit_p99_ms']:.0f} ms, max {r['legit_max_ms']:.0f} ms;"
            f" storms {[x['storm_status'] for x in r['rounds']]},"
            f" {[round(x['storm_seconds'], 1) for x in r['rounds']]} s",
            flush=True,
        )
    Path(out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
