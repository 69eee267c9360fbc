"""The `shop` command: serve, migrate, audit."""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import signal
import sys
from multiprocessing.connection import wait
from types import FrameType

import asyncpg
from aiohttp import web
from pydantic import ValidationError

from shop import embedded, migrate
from shop.app import create_app
from shop.audit import run_audit
from shop.config import Settings
from shop.db import wait_for_database

log = logging.getLogger("shop")


def load_settings() -> Settings:
    """Read the environment, or exit with a message naming each bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise SystemExit(f"invalid configuration: {problems}") from None


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"
    )


def require_dsn(settings: Settings) -> str:
    if settings.database_url is None:
        raise SystemExit("DATABASE_URL is not set")
    return settings.database_url


def run_worker(settings: Settings) -> None:
    """Serve on this process's own uvloop until SIGTERM/SIGINT, then drain and exit."""
    setup_logging(settings.log_level)
    try:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:  # pragma: no cover
        loop = asyncio.new_event_loop()
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        reuse_port=settings.workers > 1,
        shutdown_timeout=settings.shutdown_grace_seconds,
        access_log=None,
        print=None,
        loop=loop,
    )


def supervise(settings: Settings) -> int:
    """Run WORKERS processes sharing the port; forward SIGTERM/SIGINT; restart crashed ones."""
    context = multiprocessing.get_context("spawn")
    stopping = False

    def spawn() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=run_worker, args=(settings,), daemon=False)
        process.start()
        return process

    workers = {p.sentinel: p for p in (spawn() for _ in range(settings.workers))}

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in workers.values():
            if process.is_alive() and process.pid is not None:
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("serving on %s:%d with %d workers", settings.host, settings.port, settings.workers)
    failed = False
    while workers:
        for sentinel in wait(list(workers)):
            process = workers.pop(sentinel)  # type: ignore[call-overload]
            process.join()
            if stopping:
                failed |= process.exitcode != 0
            else:
                log.error("worker %d exited %s; starting another", process.pid, process.exitcode)
                replacement = spawn()
                workers[replacement.sentinel] = replacement
    return 1 if failed else 0


def serve(settings: Settings) -> int:
    dsn = settings.database_url
    if dsn is None:
        dsn = embedded.start(settings.embedded_pgdata)
        asyncio.run(wait_for_database(dsn, settings.db_connect_attempts))
        migrate.apply(dsn)
    else:
        asyncio.run(wait_for_database(dsn, settings.db_connect_attempts))
    settings = settings.model_copy(update={"database_url": dsn})
    if settings.workers == 1:
        log.info("serving on %s:%d", settings.host, settings.port)
        run_worker(settings)
        return 0
    return supervise(settings)


async def audit(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        report = await run_audit(conn)
    finally:
        await conn.close()
    sys.stdout.write(report.render() + "\n")
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shop", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP service (HOST, PORT, WORKERS)")
    migrate_cmd = commands.add_parser("migrate", help="apply pending migrations")
    migrate_cmd.add_argument(
        "--rollback", type=int, metavar="N", default=0, help="roll back the last N instead"
    )
    commands.add_parser("audit", help="check that every coin is accounted for (exit 1 if not)")
    args = parser.parse_args(argv)

    settings = load_settings()
    setup_logging(settings.log_level)
    if args.command == "serve":
        return serve(settings)
    dsn = require_dsn(settings)
    if args.command == "migrate":
        asyncio.run(wait_for_database(dsn, settings.db_connect_attempts))
        if args.rollback:
            migrate.rollback(dsn, args.rollback)
        else:
            migrate.apply(dsn)
        return 0
    return asyncio.run(audit(dsn))


if __name__ == "__main__":
    sys.exit(main())
