"""`shop serve`: the worker processes and the supervisor that shares the port among them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import resource
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import cast

from aiohttp import hdrs, web
from prometheus_client import multiprocess

from shop.app import create_app
from shop.config import Settings
from shop.db import embedded, migrate
from shop.db.pool import wait_for_database
from shop.http.transport import Limits, ShopRunner
from shop.observability.logs import setup_logging

log = logging.getLogger(__name__)

MIN_HEALTHY_SECONDS = 10.0
"""A worker that dies sooner than this after starting is broken, not unlucky: give up."""

SUPERVISOR_GONE = "supervisor gone"

LISTEN_BACKLOG = 1024
"""Connections the kernel queues before a worker accepts them; aiohttp's 128 overflows when
thousands connect at once, and an overflowing queue delays every client's connect by
seconds (SYN retransmission), the well-behaved ones too."""


def limits_of(settings: Settings) -> Limits:
    return Limits(
        max_connections=settings.max_connections,
        max_per_address=settings.max_connections_per_address,
        headers_seconds=settings.headers_timeout_seconds,
        body_seconds=settings.body_timeout_seconds,
        body_min_rate=settings.body_min_bytes_per_second,
        max_body_bytes=settings.max_body_bytes,
        trusted=tuple(settings.trusted_proxies),
    )


def raise_open_files_limit() -> None:
    """Let each worker hold as many sockets as the hard limit allows: the caps of
    MAX_CONNECTIONS decide, not a soft limit of 1024 that makes accept() fail."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def check_address(host: str, port: int) -> None:
    """Exit with one clear line if HOST:PORT cannot be listened on (in use, unknown host).

    Run before the workers start, so a mistake is one line, not a traceback per worker.
    """
    try:
        probe = socket.create_server((host, port))
    except OSError as exc:
        reason = (exc.strerror or str(exc)).split(" (while attempting")[0]
        raise SystemExit(f"cannot listen on {host}:{port}: {reason}") from None
    probe.close()


def run_worker(settings: Settings, ready: Connection | None = None) -> None:
    """Serve on this process's own uvloop until asked to stop, then drain and exit.

    `ready` receives one message once this worker listens, so the supervisor says
    "serving" only then.
    """
    setup_logging(settings.log_level, access_log=settings.access_log)
    try:
        import uvloop

        new_loop: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is not built for every platform
        new_loop = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=new_loop) as runner:
        runner.run(_serve(settings, ready))


async def _serve(settings: Settings, ready: Connection | None) -> None:
    """Listen until a stop request, then stop listening and let running requests finish.

    aiohttp's own signal handling (run_app) raises on every signal, so a second SIGTERM or
    the Ctrl-C that reaches a worker both directly and through the supervisor would abort
    the drain; here any number of signals mean one orderly stop. Requests still running
    after SHUTDOWN_GRACE_SECONDS are cancelled, then the pool is closed.

    Behind a balancer, SHUTDOWN_LINGER_SECONDS first closes only the listener and keeps
    answering on connections already open, each answer closing its connection: closing an
    idle keep-alive connection at once races with the balancer writing a request into it,
    which it cannot resend when it is a POST.
    """
    app = create_app(settings)
    draining = asyncio.Event()

    async def close_when_draining(_request: web.Request, response: web.StreamResponse) -> None:
        if draining.is_set():
            response.force_close()
            # aiohttp has already chosen the Connection header when this hook runs: without
            # this line the balancer is not told, keeps the connection and may write its
            # next request into it as it closes.
            response.headers[hdrs.CONNECTION] = "close"

    app.on_response_prepare.append(close_when_draining)
    runner = ShopRunner(
        app,
        limits=limits_of(settings),
        keepalive=settings.keepalive_seconds,
        access_log=None,
        shutdown_timeout=settings.shutdown_grace_seconds,
    )
    await runner.setup()
    try:
        site = web.TCPSite(
            runner.runner,
            settings.host,
            settings.port,
            reuse_port=settings.workers > 1,
            backlog=LISTEN_BACKLOG,
        )
        try:
            await site.start()
        except OSError as exc:  # taken between the supervisor's check and now
            log.error("cannot listen on %s:%d: %s", settings.host, settings.port, exc.strerror)
            raise SystemExit(2) from None
        if ready is None:
            log.info("serving on %s:%d", settings.host, settings.port)
        else:
            ready.send(os.getpid())
            ready.close()
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
        if settings.shutdown_linger_seconds > 0:
            await site.stop()
            draining.set()
            await asyncio.sleep(settings.shutdown_linger_seconds)
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
        self._starting: dict[Connection, int | None] = {}
        self._announced = False

    def _spawn(self) -> None:
        reader, writer = self._context.Pipe(duplex=False)
        process = self._context.Process(target=run_worker, args=(self._settings, writer))
        process.start()
        writer.close()
        self._workers[process.sentinel] = (process, time.monotonic())
        self._starting[reader] = process.pid

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self._stopping = True
        for process, _ in self._workers.values():
            if process.is_alive():
                process.terminate()

    def _started(self, reader: Connection) -> None:
        """A worker listens (or died before it could); say "serving" once all first ones do."""
        del self._starting[reader]
        with contextlib.suppress(EOFError, OSError):
            reader.recv()
        reader.close()
        if not self._starting and not self._announced and not self._stopping:
            self._announced = True
            log.info(
                "serving on %s:%d with %d workers",
                self._settings.host,
                self._settings.port,
                self._settings.workers,
            )

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
        failed = False
        while self._workers:
            for sentinel in wait([*self._workers, *self._starting]):
                if isinstance(sentinel, Connection):
                    self._started(sentinel)
                    continue
                # wait() returns what it was given: the rest are process sentinels (ints).
                process, started = self._workers.pop(cast(int, sentinel))
                process.join()
                multiprocess.mark_process_dead(process.pid)  # type: ignore[no-untyped-call]
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
    check_address(settings.host, settings.port)
    raise_open_files_limit()
    dsn = embedded.resolve_dsn(settings.database_url, settings.embedded_pgdata)
    asyncio.run(wait_for_database(dsn, settings.db_connect_attempts))
    if settings.database_url is None:
        migrate.apply(dsn)
    settings = settings.model_copy(update={"database_url": dsn})
    if settings.workers == 1:
        run_worker(settings)
        return 0
    return Supervisor(settings).run()
