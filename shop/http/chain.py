"""The middleware chain, listed once and in order (`chain`), and what it needs.

A request passes through:
    observe     request id, access log line, metrics; outermost, so it sees every status
    errors      anything raised below becomes the contract's JSON error (http/responses.py)
    auth        the bearer token's claims on the request, unless the route is public
    connection  a pooled connection taken on first use and always given back
then the handler.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import hdrs, web

from shop.db.request_connection import RequestConnection
from shop.errors import UnauthorizedError
from shop.http.responses import response_for
from shop.keys import CONN, IDLE_CONNECTIONS, SETTINGS, TOKENS, USER
from shop.observability import access_log, metrics
from shop.observability.logs import REQUEST_ID
from shop.observability.request_ids import REQUEST_ID_HEADER, request_id_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

_PUBLIC_ATTR = "__shop_public__"


def public(handler: H) -> H:
    """Mark a handler as reachable without a bearer token."""
    setattr(handler, _PUBLIC_ATTR, True)
    return handler


def bearer_token(request: web.Request) -> str:
    """The token of an `Authorization: Bearer <token>` header, or UnauthorizedError."""
    header = request.headers.get(hdrs.AUTHORIZATION)
    if header is None:
        raise UnauthorizedError("missing Authorization: Bearer <token> header")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token or " " in token.strip():
        raise UnauthorizedError("Authorization header must be: Bearer <token>")
    return token.strip()


@web.middleware
async def chain(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run the steps of the module docstring, in that order, around the handler.

    One middleware rather than four: aiohttp adds a coroutine frame per middleware, and
    every resumption of a request's task (each database answer) passes through all of
    them, so the steps share one frame. The nesting below is the order.
    """
    # observe: outermost, so it sees every status, errors and redirects included
    started = time.perf_counter()
    request_id = request_id_of(request)
    REQUEST_ID.set(request_id)
    status = 500
    try:
        try:
            # auth: unknown routes fall through to the handler's 404/405
            app = request.app
            match = request.match_info
            if match.http_exception is None and not getattr(match.handler, _PUBLIC_ATTR, False):
                request[USER] = app[TOKENS].decode(bearer_token(request))
            # connection: taken on first use, always given back before the response leaves
            holder = RequestConnection(app[IDLE_CONNECTIONS])
            request[CONN] = holder
            try:
                response = await handler(request)
            except BaseException:
                await holder.release()
                raise
            await holder.release(clean=True)
        # errors: anything raised above becomes the contract's JSON error, but a redirect
        except Exception as exc:
            if isinstance(exc, web.HTTPException) and exc.status < 400:
                raise
            response = response_for(request, exc, max_body=request.app[SETTINGS].max_body_bytes)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    except web.HTTPException as exc:  # redirects and the like, which the error step passes
        status = exc.status
        exc.headers[REQUEST_ID_HEADER] = request_id
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = metrics.route_of(request)
        metrics.count_request(route, request.method, status, elapsed)
        access_log.write(request, request_id, route, status, elapsed)


MIDDLEWARES = (chain,)
