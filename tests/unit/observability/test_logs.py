"""The access log's direct writer renders exactly what the JSON formatter renders."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator

import pytest

from shop.observability import logs
from shop.observability.logs import REQUEST_ID, AccessLines, JsonFormatter

FIELDS = {
    "method": "GET",
    "path": "/api/buy/t-shirt",
    "route": "/api/buy/{item}",
    "status": 400,
    "duration_ms": 1.25,
    "remote": "127.0.0.1",
}


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    try:
        yield read_end, write_end
    finally:
        os.close(read_end)
        os.close(write_end)


def through_logging(request_id: str) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.access.reference")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    token = REQUEST_ID.set(request_id)
    try:
        logger.info("%s %s %d", "GET", FIELDS["path"], FIELDS["status"], extra=FIELDS)
    finally:
        REQUEST_ID.reset(token)
        logger.removeHandler(handler)
    return stream.getvalue()


def test_direct_line_has_the_formatters_keys_values_and_order(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    AccessLines(write_end).write("rid-1", dict(FIELDS))
    direct = os.read(read_end, 65536).decode()

    reference = json.loads(through_logging("rid-1"))
    reference["logger"] = logs.ACCESS_LOGGER  # the reference went through a test logger
    entry = json.loads(direct)

    assert direct.endswith("}\n")
    assert direct.count("\n") == 1
    assert list(entry) == list(reference)
    assert {k: v for k, v in entry.items() if k != "ts"} == {
        k: v for k, v in reference.items() if k != "ts"
    }


@pytest.mark.parametrize("now", [1_700_000_000.0, 1_700_000_000.999, 1_700_000_059.5004])
def test_timestamp_is_rendered_as_the_formatter_renders_it(now: float) -> None:
    record = logging.makeLogRecord({"msg": "x", "created": now, "msecs": (now % 1) * 1000})
    expected = json.loads(JsonFormatter().format(record))["ts"]

    assert AccessLines(1)._timestamp(now) == expected


def test_setup_logging_writes_access_lines_to_the_handlers_file(
    monkeypatch: pytest.MonkeyPatch, pipe: tuple[int, int]
) -> None:
    read_end, write_end = pipe
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger(logs.ACCESS_LOGGER).level
    stream = os.fdopen(os.dup(write_end), "w")
    monkeypatch.setattr("sys.stderr", stream)
    try:
        logs.setup_logging("INFO", access_log=True)
        assert logs.access_lines is not None
        logs.access_lines.write("rid-2", dict(FIELDS))
        logs.setup_logging("INFO", access_log=False)
        assert logs.access_lines is None
    finally:
        root.handlers[:], level, access_level = saved
        root.setLevel(level)
        logging.getLogger(logs.ACCESS_LOGGER).setLevel(access_level)
        logs.access_lines = None
        stream.close()

    assert json.loads(os.read(read_end, 65536))["request_id"] == "rid-2"
