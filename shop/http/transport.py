"""Transport limits: idle keep-alive, connections per worker, parser rejections as JSON.

aiohttp answers a request its HTTP parser rejects (a header line over 8 KB, more than 128
headers, Content-Length with Transfer-Encoding, garbage) itself, before any middleware or
signal runs: as `text/plain`, without our security headers, after logging an ERROR with a
traceback, once per request. Its request handler is replaced here by one whose
`handle_error` answers `{"errors": ...}` with the security headers and logs one WARNING line
per client address per LOG_INTERVAL, without a traceback. The server that creates the
handlers also caps the connections one worker holds open.

This relies on two aiohttp hooks, `RequestHandler.handle_error` and `Server.__call__` /
`connection_made`; tests/api/test_transport.py drives both over real sockets, so an aiohttp
release that changes them fails the suite instead of silently losing the behaviour.
"""

from __future__ import annotations

import asyncio
import logging
import time
from http import HTTPStatus
from typing import Any

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from shop.http.headers import SECURITY_HEADERS, SERVER_NAME

log = logging.getLogger(__name__)

LOG_INTERVAL = 60.0
"""Seconds between two log lines about one client's rejected requests, or about the cap."""

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


class JsonErrorRequestHandler(RequestHandler):
    """aiohttp's connection handler, with its own error answers in the contract's shape."""

    rejections = OncePer(LOG_INTERVAL)

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
    """aiohttp's server, making JsonErrorRequestHandler and holding at most `max_connections`.

    A connection over the cap gets a 500 JSON answer with `Retry-After` and is closed at
    once (the contract has no 503); the first refusal in each LOG_INTERVAL is logged.
    """

    def __init__(self, handler: Any, *, max_connections: int, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._max_connections = max_connections
        self._handler_kwargs = {
            k: v
            for k, v in kwargs.items()
            if k not in {"request_factory", "handler_cancellation", "loop"}
        }
        self._open: set[RequestHandler] = set()
        self._refusals = OncePer(LOG_INTERVAL)
        self._refusal = self._refusal_bytes()

    @staticmethod
    def _refusal_bytes() -> bytes:
        body = orjson.dumps({"errors": "too many connections to this server; try again"})
        head = [
            "HTTP/1.1 500 Internal Server Error",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            f"Retry-After: {_RETRY_AFTER_FULL}",
            "Connection: close",
            f"Server: {SERVER_NAME}",
            *(f"{name}: {value}" for name, value in SECURITY_HEADERS.items()),
        ]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

    def __call__(self) -> RequestHandler:
        return JsonErrorRequestHandler(
            self, loop=asyncio.get_running_loop(), **self._handler_kwargs
        )

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        if len(self._open) >= self._max_connections:
            unlogged = self._refusals.check("cap")
            if unlogged is not None:
                log.warning(
                    "connection limit reached: %d connections open in this worker"
                    " (MAX_CONNECTIONS); refusing new ones until some close%s",
                    len(self._open),
                    f" ({unlogged} more refused since the last line)" if unlogged else "",
                )
            transport.write(self._refusal)
            transport.close()
            return
        self._open.add(handler)
        super().connection_made(handler, transport)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        self._open.discard(handler)
        super().connection_lost(handler, exc)


class ShopRunner(web.AppRunner):
    """AppRunner whose server is a GuardedServer with an idle keep-alive of `keepalive`."""

    def __init__(
        self, app: web.Application, *, max_connections: int, keepalive: float, **kwargs: Any
    ) -> None:
        super().__init__(app, keepalive_timeout=keepalive, **kwargs)
        self._max_connections = max_connections
        self._server_kwargs = {"keepalive_timeout": keepalive, **kwargs}
        self._server_kwargs.pop("shutdown_timeout", None)

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()  # starts the application, as AppRunner does
        return GuardedServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            max_connections=self._max_connections,
            **self._server_kwargs,
        )
