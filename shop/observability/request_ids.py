"""The request id: the caller's X-Request-Id when it is sane, else one made here."""

from __future__ import annotations

import re
import secrets

from aiohttp import web

REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_of(request: web.Request) -> str:
    """The caller's X-Request-Id when it is sane, else a new random one.

    Random, not a prefix and a counter: a client that saw one id could otherwise send the
    ids that later requests will get, and make their log lines look like its own.
    """
    given = request.headers.get(REQUEST_ID_HEADER)
    if given is not None and _SAFE_ID.fullmatch(given):
        return given
    return secrets.token_hex(8)
