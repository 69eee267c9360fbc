"""`python -m ammo run`: a fresh database, the ceiling app and the service, one load generator
per scenario of ammo/scenarios.py with `shop audit` after each, the /api/info probe, then the
results file and the report.

Every process started here is stopped at the end, and the database it created is dropped
(unless asked to keep it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from yarl import URL

from ammo import hash_capacity, machine, probe_info, report, results, seed
from ammo.plan import Plan
from ammo.processes import free_env, started, stop, wait_line, wait_port, workers
from ammo.scenarios import CEILING, TARGET_URL, Scenario, Step, by_name

PY = sys.executable
SCRATCH = ("*.csv", "*.log", "*.png", "*.json", "audit_*.txt", "profile_*.txt")
"""What a run replaces in the results directory (history/ is kept)."""
STANDALONE: tuple[str, ...] = ()
"""Result files in the results directory that a run neither makes nor replaces."""


@dataclasses.dataclass(frozen=True)
class Options:
    results: Path
    pg: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    """A server where the run may create (and drop) its database."""
    database_url: str | None = None
    """Instead: an existing, migrated or empty, database to seed and keep."""
    port: int = 18480
    workers: int = 2
    hash_threads: int = 1
    hash_niceness: int = 10
    bcrypt_rounds: int = 10
    pool_max_size: int = 16
    employees: int = 100_000
    transfers: int = 200_000
    purchases: int = 100_000
    target_url: str | None = None
    keep_db: bool = False
    record: bool = True
    """Add a full run's key figures (every default scenario, unscaled) to results/history/."""
    # Scaling, for a smoke run of the driver itself (not a measurement):
    rate_scale: float = 1.0
    unpaced_rate: float | None = None
    """Pace the "as fast as it goes" steps at this rate instead."""
    step_seconds: float | None = None
    max_steps: int | None = None
    max_users: int | None = None
    hash_seconds: float = 4.0
    probe_runs: int = 400

    @property
    def scaled(self) -> bool:
        return (
            self.rate_scale != 1.0
            or self.unpaced_rate is not None
            or self.step_seconds is not None
            or self.max_steps is not None
            or self.max_users is not None
        )


def as_run(scenario: Scenario, opts: Options) -> Scenario:
    """The scenario with the smoke-run scaling applied (unchanged for a real run)."""
    steps = [
        Step(
            opts.unpaced_rate if step.rate is None else step.rate * opts.rate_scale,
            opts.step_seconds or step.seconds,
            step.judged,
        )
        for step in scenario.steps[: opts.max_steps]
    ]
    users = min(scenario.users, opts.max_users or scenario.users)
    share = users / scenario.users
    return dataclasses.replace(
        scenario,
        steps=tuple(steps),
        users=users,
        fixed_users={k: max(1, round(n * share)) for k, n in scenario.fixed_users.items()},
        fixed_rates={k: r * opts.rate_scale for k, r in scenario.fixed_rates.items()},
    )


def log(text: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {text}", flush=True)


@contextlib.contextmanager
def database(opts: Options) -> Iterator[tuple[str, str]]:
    """(dsn, database name): a fresh uniquely named database, dropped at the end unless kept."""
    if opts.database_url:
        yield opts.database_url, URL(opts.database_url).path.lstrip("/")
        return
    name = f"shop_bench_{datetime.now(UTC):%Y%m%d_%H%M%S}_{secrets.token_hex(2)}"
    server = URL(opts.pg)
    asyncio.run(_admin(opts.pg, f'CREATE DATABASE "{name}"'))
    try:
        yield str(server.with_path(f"/{name}")), name
    finally:
        if not opts.keep_db:
            asyncio.run(_admin(opts.pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def clean(results_dir: Path) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    for pattern in SCRATCH:
        for path in results_dir.glob(pattern):
            if not any(path.match(kept) for kept in STANDALONE):
                path.unlink()


def run(scenarios: list[Scenario], opts: Options) -> int:
    """Run the scenarios, write results.json and the report; 1 if an audit failed."""
    started_at = time.time()
    out = opts.results
    clean(out)
    threads = opts.workers * opts.hash_threads
    log(f"machine facts; hashing capacity with {threads} threads")
    facts = machine.facts()
    capacity = hash_capacity.measure(threads, opts.bcrypt_rounds, opts.hash_seconds)
    runs = [as_run(s, opts) for s in scenarios]
    with database(opts) as (dsn, dbname):
        log(f"database {dbname}: migrate, seed {opts.employees} employees")
        env = free_env(
            DATABASE_URL=dsn,
            JWT_SECRET=secrets.token_urlsafe(32),
            WORKERS=str(opts.workers),
            HASH_THREADS=str(opts.hash_threads),
            HASH_NICENESS=str(opts.hash_niceness),
            BCRYPT_ROUNDS=str(opts.bcrypt_rounds),
            POOL_MAX_SIZE=str(opts.pool_max_size),
            HOST="127.0.0.1",
            # The generators are one client address: the per-address cap is for strangers.
            MAX_CONNECTIONS_PER_ADDRESS="100000",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(machine.ROOT),
        )
        subprocess.run([PY, "-m", "shop", "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
        facts |= asyncio.run(machine.postgres_facts(dsn))
        seeded = asyncio.run(
            seed.seed(
                dsn,
                employees=opts.employees,
                transfers=opts.transfers,
                purchases=opts.purchases,
                rounds=opts.bcrypt_rounds,
                rng_seed=20250101,
            )
        )
        log(seeded)
        done = _run_all(runs, opts, env, dbname)
        info = done.pop("info_history", None)
    record: results.Results = {
        "run_id": dbname,
        "code": machine.code_version(),
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "total_seconds": round(time.time() - started_at),
        "scaled": opts.scaled,
        "machine": facts,
        "settings": {
            "service": f"shop serve, WORKERS={opts.workers}, HASH_THREADS={opts.hash_threads} "
            f"(per worker), HASH_NICENESS={opts.hash_niceness}, BCRYPT_ROUNDS="
            f"{opts.bcrypt_rounds}, POOL_MAX_SIZE={opts.pool_max_size}",
            "seed": seeded,
            "database": "kept"
            if opts.keep_db or opts.database_url
            else "fresh, dropped afterwards",
            "load generator": "one process per scenario: ammo/pacer.py (aiohttp, open loop) "
            "for the rows marked `pacer`, locust (FastHttpUser) for the others",
        },
        "hash_capacity": capacity,
        "scenarios": done["scenarios"],
        "info_history": info,
    }
    results.save(out, record)
    full = {s.name for s in scenarios} >= {s.name for s in by_name(None)}
    report.render(out, record=opts.record and full and not opts.scaled)
    log(f"done in {record['total_seconds']} s: {out / 'REPORT.md'}")
    audits = [s["audit"] for s in record["scenarios"] if s.get("audit")]
    return 0 if all(a["passed"] for a in audits) else 1


def _run_all(
    runs: list[Scenario], opts: Options, env: dict[str, str], dbname: str
) -> dict[str, Any]:
    ceiling_port, service_port = opts.port + 1, opts.port
    urls = {
        "service": f"http://127.0.0.1:{service_port}",
        "ceiling": f"http://127.0.0.1:{ceiling_port}",
        "target_url": opts.target_url or "",
    }
    done: dict[str, dict[str, Any]] = {}
    yardsticks = [s for s in runs if s.target == CEILING]
    if yardsticks:
        log(f"ceiling: {opts.workers} processes of ammo/ceiling.py")
        with contextlib.ExitStack() as stack:
            pids = []
            for _ in range(opts.workers):
                proc = stack.enter_context(
                    started([PY, "-m", "ammo.ceiling"], env | {"PORT": str(ceiling_port)})
                )
                pids.append(proc.pid)
            wait_port(ceiling_port, proc)
            for scenario in yardsticks:
                done[scenario.name] = _scenario(scenario, urls, pids, opts, env, dbname)
    rest = [s for s in runs if s.target != CEILING]
    info = None
    if rest:
        if any(s.target == TARGET_URL for s in rest) and not opts.target_url:
            raise SystemExit("a scenario targets --target-url, which was not given")
        log(f"service: shop serve on port {service_port}")
        serve = env | {"PORT": str(service_port)}
        with started([PY, "-m", "shop", "serve"], serve, opts.results / "service.log") as proc:
            wait_port(service_port, proc)
            for scenario in rest:
                done[scenario.name] = _scenario(scenario, urls, [proc.pid], opts, env, dbname)
            log("/api/info: long history vs new employee")
            info = asyncio.run(
                probe_info.measure(urls["service"], env["DATABASE_URL"], opts.probe_runs)
            )
    return {"scenarios": [done[s.name] for s in runs], "info_history": info}


def _scenario(
    scenario: Scenario,
    urls: dict[str, str],
    service_pids: list[int],
    opts: Options,
    env: dict[str, str],
    dbname: str,
) -> dict[str, Any]:
    """Run one scenario's generator (and its target's start command); return its results."""
    out, name = opts.results, scenario.name
    base = scenario.target.format(**urls)
    steps_csv = out / f"{name}_steps.csv"
    plan = Plan.for_scenario(
        scenario,
        [(s.rate, s.seconds) for s in scenario.steps],
        steps_csv=str(steps_csv),
        dbname=dbname,
        service_pids=service_pids,
        employees=opts.employees,
    )
    seconds = sum(s.seconds for s in scenario.steps)
    if scenario.generator == "pacer":
        (user_class,) = scenario.classes
        argv = [
            PY, "-m", "ammo.pacer", "--host", base, "--users", str(scenario.users),
            "--csv", str(out / name), user_class,
        ]  # fmt: skip
    else:
        argv = [
            PY, "-m", "locust", "-f", str(machine.ROOT / "ammo" / "locustfile.py"), "--headless",
            "-u", str(scenario.users), "-r", str(scenario.users),
            "--run-time", f"{round(seconds) + 180}s", "--stop-timeout", "5", "-H", base,
            "--csv", str(out / name), "--csv-full-history", "--only-summary",
            "--loglevel", "WARNING", *scenario.classes,
        ]  # fmt: skip
    log(
        f"{name}: {' '.join(scenario.classes)} ({scenario.users} users, {scenario.generator}) "
        f"against {base}"
    )
    generator_log = out / f"{name}.log"
    with contextlib.ExitStack() as stack:
        if scenario.start:
            port = URL(base).port or 80
            target = stack.enter_context(
                started(
                    [arg.format(python=PY) for arg in scenario.start],
                    env | {"AMMO_TARGET_PORT": str(port)},
                    out / f"{name}.start.log",
                )
            )
            wait_port(port, target, 120)
            plan = dataclasses.replace(plan, started_pids=[target.pid])
        proc = stack.enter_context(started(argv, env | {"AMMO_PLAN": plan.to_env()}, generator_log))
        if scenario.profile:
            _profile(proc, generator_log, service_pids[0], scenario, out)
        try:
            proc.wait(seconds + 240)
        except subprocess.TimeoutExpired:
            log(f"{name}: {scenario.generator} did not stop by itself; stopping it")
            stop(proc)
    for line in generator_log.read_text(errors="replace").splitlines():
        if line.startswith(("step", "failure x")):
            log(f"  {line}")
    audit = _audit(env) if scenario.audit else None
    if audit:
        log(f"audit after {name}: {'passed' if audit['passed'] else 'FAILED'}")
    return {
        "scenario": dataclasses.asdict(scenario),
        "cpu_groups": [
            "service",
            "postgres",
            "generator",
            *(["started"] if scenario.start else []),
            *scenario.components,
        ],
        "generator_exit": proc.returncode,
        "steps": results.read_steps(steps_csv),
        "series": results.read_series(out / f"{name}_stats_history.csv"),
        "audit": audit,
        "profile": results.read_profile(sorted(out.glob(f"profile_{name}_*.txt"))),
    }


def _profile(
    generator: subprocess.Popen[bytes], log_file: Path, service: int, scenario: Scenario, out: Path
) -> None:
    """Sample every worker with py-spy for most of the first step, once warm-up is done."""
    spy = shutil.which("py-spy", path=str(Path(PY).parent)) or shutil.which("py-spy")
    if spy is None:
        log("no py-spy: the profile is skipped")
        return
    if not wait_line(log_file, "warm-up done", generator, 120):
        return
    duration = max(1, min(10, round(scenario.steps[0].seconds) - 2))
    spies = [
        subprocess.Popen(  # noqa: S603
            [
                spy,
                "record",
                "-p",
                str(pid),
                "-d",
                str(duration),
                "-r",
                "100",
                "-f",
                "raw",
                "--nonblocking",
                "-o",
                str(out / f"profile_{scenario.name}_{pid}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in workers(service)
    ]
    for spy_proc in spies:
        try:
            spy_proc.wait(duration + 30)
        except subprocess.TimeoutExpired:
            stop(spy_proc)


def _audit(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603
        [PY, "-m", "shop", "audit"], env=env, capture_output=True, text=True, check=False
    )
    text = (done.stdout + done.stderr).strip()
    return {"passed": done.returncode == 0, "text": text}
