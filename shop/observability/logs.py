"""Logging: one JSON object per line, carrying the request id of the request being served."""

from __future__ import annotations

import logging
import os
import time
from contextvars import ContextVar
from typing import Any

import orjson

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
"""The id of the request this task serves; set by the observe middleware."""

# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Render records as JSON lines that log shippers can parse without a grammar."""

    def __init__(self) -> None:
        super().__init__()
        self._pid = os.getpid()  # made in each worker, after it starts

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "pid": self._pid,
            "msg": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id != "-":
            entry["request_id"] = request_id
        entry.update((k, v) for k, v in record.__dict__.items() if k not in _STANDARD)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


ACCESS_LOGGER = "shop.access"


def setup_logging(level: str, *, access_log: bool = True) -> None:
    # Public switches of the logging HOWTO's "Optimization" section: no line shows the
    # thread or process a record would otherwise look up on every call.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO if access_log else logging.WARNING)
