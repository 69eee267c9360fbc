"""The request id: the caller's X-Request-Id when it is sane, else one made here."""

from __future__ import annotations

import itertools
import re
import secrets

from aiohttp import web

REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A new id is this process's random prefix and a counter: unique across workers and restarts
# for all practical purposes, without a getrandom() system call per request.
_ID_PREFIX = secrets.token_hex(4)
_ids = itertools.count(1)


def request_id_of(request: web.Request) -> str:
    """The caller's X-Request-Id when it is sane, else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER)
    if given is not None and _SAFE_ID.fullmatch(given):
        return given
    return f"{_ID_PREFIX}{next(_ids) & 0xFFFFFFFF:08x}"
