"""The one place where outcomes become HTTP responses: the error table and JSON helpers."""

from __future__ import annotations

import itertools
import logging
import secrets

import orjson
from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestPayloadError
from pydantic import ValidationError

from shop import errors
from shop.db.failures import UNAVAILABLE

log = logging.getLogger(__name__)

STATUS: dict[type[errors.ShopError], int] = {
    errors.InsufficientFundsError: 400,
    errors.SelfTransferError: 400,
    errors.UnknownRecipientError: 400,
    errors.UnknownItemError: 400,
    errors.UnauthorizedError: 401,  # with its subclasses: bad credentials, locked login
    errors.ForbiddenError: 403,  # the operator routes only (shared/api/operator.yaml)
    errors.UnknownEmployeeError: 400,
    errors.UnknownRoleError: 400,
    errors.LastAdminError: 400,
    errors.UnknownGrantError: 400,  # the contract has no 404 here
    errors.IdempotencyKeyRequiredError: 400,
    errors.InvalidUsernameError: 400,
    errors.LookalikeUsernameError: 400,
    errors.LoginBusyError: 500,  # the contract has no 429 or 503; with Retry-After
    errors.TransactionConflictError: 500,  # the contract has no 409
    errors.ServiceUnavailableError: 500,
    errors.OutcomeUnknownError: 500,
    errors.InvalidIdempotencyKeyError: 400,
    errors.IdempotencyKeyInFlightError: 409,  # sent only with an Idempotency-Key
    errors.IdempotencyKeyReusedError: 422,  # sent only with an Idempotency-Key
    errors.RequestTimeoutError: 408,
    errors.ClientAbortedError: 499,  # nginx's "client closed request": the client's, not ours
}
"""Every domain error's status; a subclass takes its nearest listed base's."""

DATABASE_UNAVAILABLE = "the database is unavailable; try again"
"""For a database failure met outside the code that knows whether anything was written."""

_BODY_HEADERS = frozenset({hdrs.CONTENT_TYPE, hdrs.CONTENT_LENGTH})
_INCIDENT_PREFIX = secrets.token_hex(3)
_incidents = itertools.count(1)


def json_text(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="application/json")


def ok() -> web.Response:
    """The contract's 200 without a body (sendCoin, buy)."""
    return web.Response(status=200)


REPLAYED_HEADER = "Idempotent-Replayed"
_TRANSPORT = frozenset({408, 499})
"""The request never reached a unit of work: nothing to keep."""


def error_body(message: str) -> str:
    """The contract's error body as text, as `error_response` sends it."""
    return orjson.dumps({"errors": message}).decode()


def storable_answer(error: errors.ShopError) -> tuple[int, str] | None:
    """The status and body to keep under an Idempotency-Key for an error; None: keep nothing.

    A request refused by the data (4xx) was processed, so its answer is kept and repeated;
    a 5xx (conflict, outage, unknown outcome) is not, so a retry runs afresh.
    """
    status = status_of(error)
    if status >= 500 or status in _TRANSPORT:
        return None
    return status, error_body(error.message)


def stored_response(status: int, body: str, *, replayed: bool) -> web.Response:
    """An answer kept under an Idempotency-Key, as the request without a key would get it."""
    if not replayed and not body and status == 200:
        return ok()
    headers = {REPLAYED_HEADER: "true"} if replayed else None
    if not body:
        return web.Response(status=status, headers=headers)
    if status >= 400:  # as error_response sends it
        return web.Response(
            status=status, body=body.encode(), content_type="application/json", headers=headers
        )
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The contract's error body, `{"errors": "<message>"}`."""
    return web.Response(
        status=status,
        body=orjson.dumps({"errors": message}),
        content_type="application/json",
        headers=headers,
    )


def status_of(error: errors.ShopError) -> int:
    for cls in type(error).__mro__:
        status = STATUS.get(cls)
        if status is not None:
            return status
    return 400


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


def _describe_http_error(request: web.Request, exc: web.HTTPException, max_body: int) -> str:
    if exc.status == 404:
        return f"no such endpoint: {request.path[:200]}"
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return f"method {exc.method} is not allowed here; use {allowed}"
    if exc.status == 413:
        return f"request body too large: at most {max_body} bytes"
    text = exc.text or exc.reason
    return text.removeprefix(f"{exc.status}: ")


def client_gone(request: web.Request, exc: Exception) -> bool:
    """Whether `exc` is the client leaving: its connection is closed and the error is one a
    lost connection raises (a reset, or a body cut short), not the database's."""
    if request.transport is not None and not request.transport.is_closing():
        return False
    return isinstance(exc, ConnectionError | RequestPayloadError | EOFError)


def response_for(request: web.Request, exc: Exception, *, max_body: int) -> web.Response:
    """The response for an exception that reached the top of the chain.

    Only domain errors raised where the outcome is known say whether anything changed; a
    database failure or a bug met anywhere else gets a neutral message, and a bug an incident
    id that is also in the log, so a report from a client can be found.
    """
    if client_gone(request, exc):
        exc = errors.ClientAbortedError()
    if isinstance(exc, errors.ShopError):
        headers = None
        if isinstance(exc, errors.LoginLockedError | errors.LoginBusyError):
            headers = {"Retry-After": str(exc.retry_after)}
        return error_response(status_of(exc), exc.message, headers)
    if isinstance(exc, ValidationError):
        return error_response(400, describe_validation_error(exc))
    if isinstance(exc, RequestPayloadError):  # a body that fails its Content-Encoding
        return error_response(400, "request body could not be read")
    if isinstance(exc, web.HTTPException) and exc.status >= 400:
        headers = {k: v for k, v in exc.headers.items() if k not in _BODY_HEADERS}
        return error_response(exc.status, _describe_http_error(request, exc, max_body), headers)
    if isinstance(exc, UNAVAILABLE):
        log.warning("database unavailable during %s %s: %r", request.method, request.path, exc)
        return error_response(500, DATABASE_UNAVAILABLE)
    incident = f"{_INCIDENT_PREFIX}-{next(_incidents)}"
    log.error(
        "unhandled error in %s %s (incident %s)",
        request.method,
        request.path,
        incident,
        exc_info=exc,
    )
    return error_response(500, f"internal server error (incident {incident})")
