"""Log lines are JSON objects carrying the request id of the request being served."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from shop.observability import logs
from shop.observability.logs import REQUEST_ID, JsonFormatter

FIELDS = {
    "method": "GET",
    "path": "/api/buy/t-shirt",
    "route": "/api/buy/{item}",
    "status": 400,
    "duration_ms": 1.25,
    "remote": "127.0.0.1",
}


@pytest.fixture
def stderr() -> Iterator[io.StringIO]:
    """What setup_logging's handler writes, with the logging set-up restored afterwards."""
    stream = io.StringIO()
    root = logging.getLogger()
    access = logging.getLogger(logs.ACCESS_LOGGER)
    saved = root.handlers[:], root.level, access.level
    try:
        yield stream
    finally:
        root.handlers[:], level, access_level = saved
        root.setLevel(level)
        access.setLevel(access_level)


def test_an_access_line_is_one_json_object_with_the_request_id_and_fields(
    stderr: io.StringIO,
) -> None:
    logs.setup_logging("INFO", access_log=True)
    logging.getLogger().handlers[0].setStream(stderr)  # type: ignore[attr-defined]
    token = REQUEST_ID.set("rid-1")
    try:
        logging.getLogger(logs.ACCESS_LOGGER).info("GET /x 400", extra=FIELDS)
    finally:
        REQUEST_ID.reset(token)

    lines = stderr.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["request_id"] == "rid-1"
    assert entry["logger"] == logs.ACCESS_LOGGER
    assert entry["level"] == "INFO"
    assert {k: entry[k] for k in FIELDS} == FIELDS


def test_access_lines_can_be_switched_off_while_warnings_still_show(stderr: io.StringIO) -> None:
    logs.setup_logging("INFO", access_log=False)
    logging.getLogger().handlers[0].setStream(stderr)  # type: ignore[attr-defined]
    access = logging.getLogger(logs.ACCESS_LOGGER)
    access.info("GET /x 200", extra=FIELDS)
    access.warning("refused")

    assert [json.loads(line)["msg"] for line in stderr.getvalue().splitlines()] == ["refused"]


def test_a_timestamp_is_utc_with_milliseconds() -> None:
    record = logging.makeLogRecord({"msg": "x", "created": 1_700_000_059.5004, "msecs": 500.4})

    assert json.loads(JsonFormatter().format(record))["ts"] == "2023-11-14T22:14:19.500Z"
