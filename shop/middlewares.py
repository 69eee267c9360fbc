"""The error middleware (the only place errors become HTTP) and bearer authentication."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import orjson
from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestPayloadError
from pydantic import ValidationError

from shop.connection import UNAVAILABLE
from shop.errors import ServiceUnavailableError, ShopError, UnauthorizedError
from shop.keys import SETTINGS, TOKENS, USER

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

_PUBLIC_ATTR = "__shop_public__"


def public(handler: H) -> H:
    """Mark a handler as reachable without a bearer token."""
    setattr(handler, _PUBLIC_ATTR, True)
    return handler


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps({"errors": message}),
        content_type="application/json",
        headers=headers,
    )


def describe_validation_error(exc: ValidationError) -> str:
    """One readable sentence for the first problem pydantic found."""
    first = exc.errors(include_url=False, include_input=False)[0]
    if first["type"] == "json_invalid":
        return "request body is not valid JSON"
    if not first["loc"]:
        return "request body must be a JSON object"
    field = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    return f"{field}: {message[:1].lower()}{message[1:]}"


def _describe_http_error(request: web.Request, exc: web.HTTPException) -> str:
    if exc.status == 404:
        return f"no such endpoint: {request.path[:200]}"
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return f"method {exc.method} is not allowed here; use {allowed}"
    if exc.status == 413:
        limit = request.app[SETTINGS].max_body_bytes
        return f"request body too large: at most {limit} bytes"
    text = exc.text or exc.reason
    return text.removeprefix(f"{exc.status}: ")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every failure as the contract's `{"errors": "..."}` body."""
    try:
        return await handler(request)
    except ShopError as exc:
        return error_response(exc.status, exc.message, exc.headers)
    except ValidationError as exc:
        return error_response(400, describe_validation_error(exc))
    except RequestPayloadError:  # e.g. a body that does not match its Content-Encoding
        return error_response(400, "request body could not be read")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k not in _BODY_HEADERS}
        return error_response(exc.status, _describe_http_error(request, exc), headers)
    except UNAVAILABLE as exc:
        log.warning("database unavailable during %s %s: %r", request.method, request.path, exc)
        return error_response(500, ServiceUnavailableError().message)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "internal server error; nothing was changed")


_BODY_HEADERS = frozenset({hdrs.CONTENT_TYPE, hdrs.CONTENT_LENGTH})


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
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Put the caller's claims on the request; unknown routes fall through to 404/405."""
    match = request.match_info
    if match.http_exception is None and not getattr(match.handler, _PUBLIC_ATTR, False):
        request[USER] = request.app[TOKENS].decode(bearer_token(request))
    return await handler(request)
