"""python -m ammo run [SCENARIO...] | report [RESULTS_DIR] | list  (see ammo/README.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ammo import report, results
from ammo.driver import Options, run
from ammo.scenarios import SCENARIOS, by_name

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ammo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the scenarios of ammo/scenarios.py")
    render = commands.add_parser("report", help="re-render REPORT.md from results.json")
    render.add_argument("results", nargs="?", type=Path, default=RESULTS)
    go = commands.add_parser("run", help="run scenarios (default: all default ones)")
    go.add_argument("scenarios", nargs="*", metavar="SCENARIO")
    go.add_argument("--results", type=Path, default=RESULTS)
    go.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432") + "/postgres",
        help="server on which to create (and drop) a fresh database (env BENCH_PG)",
    )
    go.add_argument("--database-url", help="use this empty database instead (kept)")
    go.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "18480")),
                    help="service port; the ceiling app uses the next one")  # fmt: skip
    go.add_argument("--target-url", help="base URL for scenarios that target {target_url}")
    go.add_argument(
        "--keep-db", action="store_true", default=os.environ.get("BENCH_KEEP_DB") == "1"
    )
    go.add_argument("--employees", type=int, default=100_000, help="seed size")
    service = go.add_argument_group("the service under test")
    service.add_argument("--workers", type=int, default=2)
    service.add_argument("--hash-threads", type=int, default=1, help="per worker")
    service.add_argument("--hash-niceness", type=int, default=10)
    service.add_argument("--bcrypt-rounds", type=int, default=10)
    service.add_argument("--pool-max-size", type=int, default=16)
    smoke = go.add_argument_group("scaling (a smoke run of the driver, not a measurement)")
    smoke.add_argument("--rate-scale", type=float, default=1.0)
    smoke.add_argument("--unpaced-rate", type=float, help="pace 'as fast as it goes' steps")
    smoke.add_argument("--step-seconds", type=float)
    smoke.add_argument("--max-steps", type=int)
    smoke.add_argument("--max-users", type=int)
    smoke.add_argument(
        "--smoke",
        action="store_true",
        help="all of: 1%% rates, 20/s for unpaced steps, 2 s steps, 2 steps, 8 users, "
        "1,200 employees, bcrypt cost 4",
    )
    args = parser.parse_args(argv)

    if args.command == "list":
        for s in SCENARIOS:
            flag = "" if s.default else "  (only when named)"
            print(f"{s.name:14} {s.title}{flag}")
        return 0
    if args.command == "report":
        if not (args.results / results.FILE).exists():
            parser.error(f"no {results.FILE} in {args.results}: `python -m ammo run` writes it")
        print(report.render(args.results))
        return 0
    try:
        scenarios = by_name(args.scenarios)
    except KeyError as exc:
        parser.error(str(exc.args[0]))
    opts = Options(
        results=args.results,
        pg=args.pg,
        database_url=args.database_url,
        port=args.port,
        target_url=args.target_url,
        keep_db=args.keep_db,
        employees=args.employees,
        workers=args.workers,
        hash_threads=args.hash_threads,
        hash_niceness=args.hash_niceness,
        bcrypt_rounds=args.bcrypt_rounds,
        pool_max_size=args.pool_max_size,
        rate_scale=args.rate_scale,
        unpaced_rate=args.unpaced_rate,
        step_seconds=args.step_seconds,
        max_steps=args.max_steps,
        max_users=args.max_users,
    )
    if args.smoke:
        opts = smoke_options(opts)
    return run(scenarios, opts)


def smoke_options(opts: Options) -> Options:
    """Tiny everything: proves the driver and the report work, in seconds per scenario."""
    from dataclasses import replace

    return replace(
        opts,
        rate_scale=0.01,
        unpaced_rate=20.0,
        step_seconds=2.0,
        max_steps=2,
        max_users=8,
        employees=1_200,
        transfers=2_000,
        purchases=1_000,
        bcrypt_rounds=4,
        hash_seconds=0.5,
        probe_runs=10,
    )


if __name__ == "__main__":
    sys.exit(main())
