"""`shop serve`: the worker processes and the supervisor that shares the port among them."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import tempfile
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

from aiohttp import web
from prometheus_client import multiprocess

from shop import embedded, migrate
from shop.app import create_app
from shop.config import Settings
from shop.db import wait_for_database
from shop.logs import setup_logging

log = logging.getLogger(__name__)

MIN_HEALTHY_SECONDS = 10.0
"""A worker that dies sooner than this after starting is broken, not unlucky: give up."""


def run_worker(settings: Settings) -> None:
    """Serve on this process's own uvloop until SIGTERM/SIGINT, then drain and exit."""
    setup_logging(settings.log_level, access_log=settings.access_log)
    try:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:  # pragma: no cover - uvloop is not built for every platform
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


class Supervisor:
    """Run WORKERS processes on one port (SO_REUSEPORT); forward SIGTERM; replace crashed ones."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._workers: dict[int, tuple[BaseProcess, float]] = {}
        self._stopping = False

    def _spawn(self) -> None:
        process = self._context.Process(target=run_worker, args=(self._settings,))
        process.start()
        self._workers[process.sentinel] = (process, time.monotonic())

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self._stopping = True
        for process, _ in self._workers.values():
            if process.is_alive():
                process.terminate()

    def run(self) -> int:
        with tempfile.TemporaryDirectory(prefix="shop-metrics-") as metrics_dir:
            # Read by prometheus_client in each worker as it starts (spawned, so it inherits).
            os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)
            return self._supervise()

    def _supervise(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self._settings.workers):
            self._spawn()
        log.info(
            "serving on %s:%d with %d workers",
            self._settings.host,
            self._settings.port,
            self._settings.workers,
        )
        failed = False
        while self._workers:
            for sentinel in wait(list(self._workers)):
                process, started = self._workers.pop(sentinel)  # type: ignore[arg-type]
                process.join()
                multiprocess.mark_process_dead(process.pid)
                if self._stopping:  # killed by our SIGTERM before its handler was up: fine
                    failed |= process.exitcode not in (0, -signal.SIGTERM)
                elif time.monotonic() - started < MIN_HEALTHY_SECONDS:
                    log.error("worker %d failed at start (exit %s)", process.pid, process.exitcode)
                    failed = True
                    self._stop(signal.SIGTERM, None)
                else:
                    log.error("worker %d exited %s; replacing it", process.pid, process.exitcode)
                    self._spawn()
        return 1 if failed else 0


def serve(settings: Settings) -> int:
    """Resolve the database (embedded if DATABASE_URL is unset), wait for it, then serve."""
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
    return Supervisor(settings).run()
