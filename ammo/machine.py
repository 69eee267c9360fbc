"""Facts about the machine and the code a run measured, kept with the run's results."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import asyncpg
import locust

ROOT = Path(__file__).resolve().parent.parent


def facts() -> dict[str, object]:
    """CPU model, cores, memory, versions and load before the run."""
    with open("/proc/cpuinfo") as f:
        model = next(
            (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?"
        )
    with open("/proc/meminfo") as f:
        mem_kib = next(int(line.split()[1]) for line in f if line.startswith("MemTotal"))
    return {
        "nproc": os.cpu_count(),
        "CPU": model,
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "Python": platform.python_version(),
        "locust": locust.__version__,
        "load average before the run (1, 5, 15 min)": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


async def postgres_facts(dsn: str) -> dict[str, object]:
    conn = await asyncpg.connect(dsn)
    try:
        version = await conn.fetchval("SELECT version()")
        buffers = await conn.fetchval("SHOW shared_buffers")
        connections = await conn.fetchval("SHOW max_connections")
    finally:
        await conn.close()
    return {
        "PostgreSQL": version.split(" on ")[0],
        "PostgreSQL shared_buffers / max_connections": f"{buffers} / {connections}",
    }


def code_version() -> str:
    """The last commit that changed shop/ or migrations/, marked when the tree differs."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )

    try:
        commit = git("log", "-1", "--format=%h", "--", "shop", "migrations").stdout.strip()
        dirty = git("diff", "--quiet", "HEAD", "--", "shop", "migrations").returncode != 0
    except FileNotFoundError:  # no git here (the test image): the code cannot be named
        return "unknown"
    return (commit or "unknown") + ("+changes" if dirty else "")
