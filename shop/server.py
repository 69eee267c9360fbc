"""`shop serve`: the worker processes and the supervisor that shares the port among them."""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

from aiohttp import web
from prometheus_client import multiprocess

from shop.app import create_app
from shop.config import Settings
from shop.db import embedded, migrate
from shop.db.pool import wait_for_database
from shop.observability.logs import setup_logging

log = logging.getLogger(__name__)

MIN_HEALTHY_SECONDS = 10.0
"""A worker that dies sooner than this after starting is broken, not unlucky: give up."""

SUPERVISOR_GONE = "supervisor gone"


def run_worker(settings: Settings) -> None:
    """Serve on this process's own uvloop until asked to stop, then drain and exit."""
    setup_logging(settings.log_level, access_log=settings.access_log)
    try:
        import uvloop

        new_loop: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is not built for every platform
        new_loop = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=new_loop) as runner:
        runner.run(_serve(settings))


async def _serve(settings: Settings) -> None:
    """Listen until a stop request, then stop listening and let running requests finish.

    aiohttp's own signal handling (run_app) raises on every signal, so a second SIGTERM or
    the Ctrl-C that reaches a worker both directly and through the supervisor would abort
    the drain; here any number of signals mean one orderly stop. Requests still running
    after SHUTDOWN_GRACE_SECONDS are cancelled, then the pool is closed.
    """
    runner = web.AppRunner(
        create_app(settings),
        access_log=None,
        shutdown_timeout=settings.shutdown_grace_seconds,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, reuse_port=settings.workers > 1)
        await site.start()
        # What start-up made (modules, the app, the pool) lives as long as the worker: keep
        # it out of every later collection, which then only walks per-request garbage.
        gc.freeze()
        reason = await _stop_requested()
        log.log(
            logging.WARNING if reason == SUPERVISOR_GONE else logging.INFO,
            "%s: not accepting; draining requests for up to %.1f s",
            reason,
            settings.shutdown_grace_seconds,
        )
    finally:
        await runner.cleanup()
    log.info("stopped")


async def _stop_requested() -> str:
    """Wait for SIGTERM, SIGINT, or the death of the supervisor; say which came first."""
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[str] = loop.create_future()

    def request(reason: str) -> None:
        if not stop.done():  # later requests change nothing: the stop is under way
            stop.set_result(reason)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, request, signal.Signals(signum).name)
    supervisor = multiprocessing.parent_process()
    if supervisor is not None:  # its sentinel becomes readable when it dies, even by SIGKILL
        loop.add_reader(supervisor.sentinel, request, SUPERVISOR_GONE)
    try:
        return await stop
    finally:
        if supervisor is not None:
            loop.remove_reader(supervisor.sentinel)


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
