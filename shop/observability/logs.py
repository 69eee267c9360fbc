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


_MILLISECONDS = tuple(f".{ms:03d}Z" for ms in range(1000))
"""The end of a timestamp, looked up rather than formatted on every line."""


class AccessLines:
    """Write access log lines as the JSON formatter would, without a LogRecord per request.

    A line through `logging` costs a record (with its time, caller, thread and process
    fields), the handler's lock, the formatter's walk over the record's attributes and a
    text stream's encode and flush. This builds the same object, key for key, straight from
    the request's values and writes the bytes with one write() to the log handler's file.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._pid = os.getpid()
        self._second = -1
        self._stamp = ""

    def _timestamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:  # strftime once a second, not once a line
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return self._stamp + _MILLISECONDS[int((now - second) * 1000)]

    def write(self, request_id: str, fields: dict[str, Any]) -> None:
        entry = {
            "ts": self._timestamp(time.time()),
            "level": "INFO",
            "logger": ACCESS_LOGGER,
            "pid": self._pid,
            "msg": f"{fields['method']} {fields['path']} {fields['status']}",
            "request_id": request_id,
        }
        entry.update(fields)
        line = orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE)
        while line:  # a write to a pipe may be cut short; the rest follows
            line = line[os.write(self._fd, line) :]


ACCESS_LOGGER = "shop.access"
access_lines: AccessLines | None = None
"""Set by setup_logging when the access log goes to a file; else lines go through logging."""


def setup_logging(level: str, *, access_log: bool = True) -> None:
    # Public switches of the logging HOWTO's "Optimization" section: no line shows the
    # thread or process a record would otherwise look up on every call. (Access lines skip
    # logging altogether: AccessLines.)
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO if access_log else logging.WARNING)
    global access_lines
    access_lines = None
    if access_log:
        try:
            access_lines = AccessLines(handler.stream.fileno())
        except (AttributeError, OSError, ValueError):  # a stream without a file: use logging
            access_lines = None
