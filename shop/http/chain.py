"""The middleware chain, listed once and in order (MIDDLEWARES), and what it needs.

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
from shop.keys import CONN, POOL, SETTINGS, TOKENS, USER
from shop.observability import requests
from shop.observability.logs import REQUEST_ID

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
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    request_id = requests.request_id_of(request)
    REQUEST_ID.set(request_id)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers[requests.REQUEST_ID_HEADER] = request_id
        return response
    except web.HTTPException as exc:  # redirects and the like, which the error layer passes
        status = exc.status
        exc.headers[requests.REQUEST_ID_HEADER] = request_id
        raise
    finally:
        requests.record(request, status, time.perf_counter() - started)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every failure as the contract's `{"errors": "..."}` body."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return response_for(request, exc, max_body=request.app[SETTINGS].max_body_bytes)
    except Exception as exc:
        return response_for(request, exc, max_body=request.app[SETTINGS].max_body_bytes)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Put the caller's claims on the request; unknown routes fall through to 404/405."""
    match = request.match_info
    if match.http_exception is None and not getattr(match.handler, _PUBLIC_ATTR, False):
        request[USER] = request.app[TOKENS].decode(bearer_token(request))
    return await handler(request)


@web.middleware
async def connection_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give the request a lazily acquired connection and always give it back."""
    holder = RequestConnection(request.app[POOL], request.app[SETTINGS].pool_acquire_timeout)
    request[CONN] = holder
    try:
        return await handler(request)
    finally:
        await holder.release()


MIDDLEWARES = (observe_middleware, error_middleware, auth_middleware, connection_middleware)
"""Outermost first."""
