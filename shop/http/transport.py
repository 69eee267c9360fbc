"""Transport limits: deadlines for every phase of a request, connection caps, JSON refusals.

What a client may hold, per worker:
- the headers of its first request within `headers_seconds` of connecting (a later request
  on a kept-alive connection within KEEPALIVE_SECONDS of the previous answer: aiohttp's
  idle timer);
- a body within `body_seconds`, plus one second per `body_min_rate` bytes it announces (a
  minimum rate for large bodies); a late body gets a JSON 408 and the connection is closed;
- at most `max_per_address` open connections per client address (peers in TRUSTED_PROXIES
  are exempt: they carry many clients), and `max_connections` in all.

A connection over a cap gets a fixed JSON answer (429 for its address's cap, 500 with
`Retry-After` for the worker's) written before anything is read, and is closed; it never
gets a request task. Each kind of event is logged at most once per client address per
LOG_INTERVAL, without a traceback.

aiohttp answers a request its HTTP parser rejects (a header line over 8 KB, more than 128
headers, Content-Length with Transfer-Encoding, garbage) itself, before any middleware or
signal runs, as `text/plain` with a traceback in the log. `handle_error` here answers
`{"errors": ...}` with the security headers instead.

aiohttp has no public hook for any of this: the connection handler (`web.RequestHandler`,
exported but undocumented) is subclassed for `connection_made`, `connection_lost` and
`handle_error`, and `web.Server` (public) makes it. The application is started by the
public `web.AppRunner`; tests/api/test_transport.py drives every path over real sockets,
so an aiohttp release that changes them fails the suite instead of silently losing them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson
from aiohttp import hdrs, web
from aiohttp.web_request import BaseRequest

from shop.errors import RequestTimeoutError
from shop.http.client_address import Network
from shop.http.headers import SECURITY_HEADERS, SERVER_NAME

log = logging.getLogger(__name__)

LOG_INTERVAL = 60.0
"""Seconds between two log lines about one client's rejected requests, or about a cap."""

_RETRY_AFTER_FULL = 1


class OncePer:
    """Says whether to log about `key` now: at most once per `interval` per key."""

    def __init__(self, interval: float, max_keys: int = 10_000) -> None:
        self._interval = interval
        self._max_keys = max_keys
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def check(self, key: str, now: float | None = None) -> int | None:
        """None: stay quiet; else log now, saying how many were left unlogged before."""
        now = time.monotonic() if now is None else now
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return None
        if len(self._last) >= self._max_keys:  # a flood of addresses: forget, stay bounded
            self._last.clear()
            self._suppressed.clear()
        self._last[key] = now
        return self._suppressed.pop(key, 0)


def _json_error(status: int, message: str, **headers: str) -> web.Response:
    response = web.Response(
        status=status,
        body=orjson.dumps({"errors": message}),
        content_type="application/json",
        headers={**SECURITY_HEADERS, "Server": SERVER_NAME, **headers},
    )
    response.force_close()
    return response


def _raw_answer(status: int, message: str, **headers: str) -> bytes:
    """A complete HTTP/1.1 answer that closes the connection, for writing to a transport."""
    body = orjson.dumps({"errors": message})
    head = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
        "Connection: close",
        f"Server: {SERVER_NAME}",
        *(f"{name}: {value}" for name, value in SECURITY_HEADERS.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _host_of(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple | list) and peer:
        return str(peer[0])
    return "unknown"


@dataclass(frozen=True, slots=True)
class Limits:
    """What one connection may take; see the module docstring."""

    max_connections: int
    max_per_address: int
    headers_seconds: float
    body_seconds: float
    body_min_rate: int
    max_body_bytes: int
    trusted: Sequence[Network] = ()

    def body_deadline(self, announced: int | None) -> float:
        """Seconds a body of `announced` bytes (None: chunked, up to the body limit) may take."""
        size = self.max_body_bytes if announced is None else min(announced, self.max_body_bytes)
        return self.body_seconds + size / self.body_min_rate


@dataclass(slots=True)
class _Census:
    """Open connections of one worker, in all and per client address."""

    total: int = 0
    by_address: dict[str, int] = field(default_factory=dict)


class GuardedRequestHandler(web.RequestHandler):
    """aiohttp's connection handler, with the deadlines, the caps and JSON error answers."""

    rejections = OncePer(LOG_INTERVAL)
    events = OncePer(LOG_INTERVAL)

    def __init__(self, manager: GuardedServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = manager
        self._client = "unknown"
        self._counted = False
        self._deadline: asyncio.TimerHandle | None = None
        self._started = 0

    # -- connection ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._client = _host_of(transport)
        refusal = self._guard.admit(self._client)
        if refusal is not None:  # no request task is made, so nothing is left to fail later
            transport.write(refusal)  # type: ignore[attr-defined]
            transport.close()
            return
        self._counted = True
        super().connection_made(transport)
        loop = self._loop
        self._deadline = loop.call_at(
            loop.time() + self._guard.limits.headers_seconds, self._headers_late
        )

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self._counted:  # refused: aiohttp never saw this connection
            return
        self._counted = False
        self._guard.release(self._client)
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)

    # -- deadlines -------------------------------------------------------------------------

    def request_started(self, message: Any, payload: Any, writer: Any) -> None:
        """Called as each request's headers are parsed: the body's deadline starts now."""
        self._started += 1
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if payload.is_eof():
            return
        announced = message.headers.get(hdrs.CONTENT_LENGTH)
        size = int(announced) if announced is not None and announced.isdigit() else None
        loop = self._loop
        self._deadline = loop.call_at(
            loop.time() + self._guard.limits.body_deadline(size),
            self._body_late,
            payload,
            writer,
        )

    def _headers_late(self) -> None:
        self._deadline = None
        if self._started or self.transport is None:
            return
        self._note(
            "sent no complete request headers within %g s", self._guard.limits.headers_seconds
        )
        self.force_close()

    def _body_late(self, payload: Any, writer: Any) -> None:
        self._deadline = None
        if payload.is_eof() or self.transport is None:
            return
        seconds = self._guard.limits.body_seconds
        self._note("sent a request body too slowly (%g s and a minimum rate)", seconds)
        if writer.output_size == 0:  # nothing answered yet: say why, then close
            error = RequestTimeoutError(seconds)
            self.transport.write(_raw_answer(408, error.message))
            payload.set_exception(error)
        self.force_close()

    def _note(self, what: str, seconds: float) -> None:
        unlogged = self.events.check(f"{self._client} {what}")
        if unlogged is not None:
            log.warning(
                "closed a connection from %s that " + what + "%s",
                self._client,
                seconds,
                f" ({unlogged} more from this address not logged)" if unlogged else "",
            )

    # -- parser errors ---------------------------------------------------------------------

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        client = request.remote or "unknown"
        unlogged = self.rejections.check(client)
        if unlogged is not None:
            log.warning(
                "rejected a malformed HTTP request from %s: %d %s%s",
                client,
                status,
                (message or HTTPStatus(status).phrase)[:200],
                f" ({unlogged} more from this address not logged)" if unlogged else "",
            )
        if request.writer.output_size > 0:  # as aiohttp: a response is under way, only close
            raise ConnectionError("response already started; cannot send the error")
        if status >= 500:
            return _json_error(status, "internal server error; nothing was changed")
        reason = message or HTTPStatus(status).phrase
        return _json_error(status, f"malformed HTTP request: {reason}")


class GuardedServer(web.Server):
    """aiohttp's server, making GuardedRequestHandler and counting open connections."""

    def __init__(self, handler: Any, *, limits: Limits, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.limits = limits
        self._handler_kwargs = {
            k: v
            for k, v in kwargs.items()
            if k not in {"request_factory", "handler_cancellation", "loop"}
        }
        self._census = _Census()
        self._refusals = OncePer(LOG_INTERVAL)
        self._full = _raw_answer(
            500,
            "too many connections to this server; try again",
            **{"Retry-After": str(_RETRY_AFTER_FULL)},
        )
        self._crowded = _raw_answer(
            429,
            "too many connections from your address; close some and try again",
            **{"Retry-After": str(_RETRY_AFTER_FULL)},
        )
        self._exempt: dict[str, bool] = {}
        inner = self.request_factory

        def request_factory(
            message: Any, payload: Any, protocol: Any, writer: Any, task: Any
        ) -> BaseRequest:
            protocol.request_started(message, payload, writer)
            return inner(message, payload, protocol, writer, task)

        self.request_factory = request_factory

    def __call__(self) -> GuardedRequestHandler:
        return GuardedRequestHandler(self, loop=asyncio.get_running_loop(), **self._handler_kwargs)

    def _is_exempt(self, client: str) -> bool:
        exempt = self._exempt.get(client)
        if exempt is None:
            try:
                address = ipaddress.ip_address(client)
            except ValueError:
                exempt = False
            else:
                exempt = any(address in net for net in self.limits.trusted)
            if len(self._exempt) >= 10_000:
                self._exempt.clear()
            self._exempt[client] = exempt
        return exempt

    def admit(self, client: str) -> bytes | None:
        """Count a new connection from `client`, or return the answer that refuses it."""
        census, limits = self._census, self.limits
        if census.total >= limits.max_connections:
            self._log_refusal(
                "cap",
                "connection limit reached: %d connections open in this worker"
                " (MAX_CONNECTIONS); refusing new ones until some close",
                census.total,
            )
            return self._full
        held = census.by_address.get(client, 0)
        if held >= limits.max_per_address and not self._is_exempt(client):
            self._log_refusal(
                client,
                "connection limit per address reached: %s holds %d connections to this"
                " worker (MAX_CONNECTIONS_PER_ADDRESS); refusing its new ones",
                client,
                held,
            )
            return self._crowded
        census.total += 1
        census.by_address[client] = held + 1
        return None

    def release(self, client: str) -> None:
        census = self._census
        census.total -= 1
        held = census.by_address.get(client, 0) - 1
        if held > 0:
            census.by_address[client] = held
        else:
            census.by_address.pop(client, None)

    def _log_refusal(self, key: str, message: str, *args: object) -> None:
        unlogged = self._refusals.check(key)
        if unlogged is not None:
            log.warning(
                message + "%s",
                *args,
                f" ({unlogged} more refused since the last line)" if unlogged else "",
            )


class ShopRunner:
    """The application started by aiohttp's public AppRunner, served by a GuardedServer.

    `runner` is what a site listens with. `cleanup` first stops the sites and drains the
    connections (up to `shutdown_timeout`), then runs the application's cleanup.
    """

    def __init__(
        self,
        app: web.Application,
        *,
        limits: Limits,
        keepalive: float,
        shutdown_timeout: float,
        **kwargs: Any,
    ) -> None:
        self._app_runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout, **kwargs)
        self._limits = limits
        self._server_kwargs = {"keepalive_timeout": keepalive, **kwargs}
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.ServerRunner | None = None

    @property
    def runner(self) -> web.BaseRunner:
        if self._runner is None:
            raise RuntimeError("setup() first")
        return self._runner

    async def setup(self) -> None:
        await self._app_runner.setup()  # starts the application
        plain = self._app_runner.server
        if plain is None:
            raise RuntimeError("the application runner made no server")
        server = GuardedServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            limits=self._limits,
            **self._server_kwargs,
        )
        self._runner = web.ServerRunner(server, shutdown_timeout=self._shutdown_timeout)
        await self._runner.setup()

    async def cleanup(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self._app_runner.cleanup()
