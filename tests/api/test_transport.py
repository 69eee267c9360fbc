"""Transport limits of a running `shop serve` with 2 workers, over raw sockets (issue 9)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import aiohttp
import pytest

from shop.http.headers import SECURITY_HEADERS
from tests.api.conftest import perimeter_env, start_server
from tests.helpers import Server

MAX_CONNECTIONS = 4
KEEPALIVE_SECONDS = 2


@pytest.fixture(scope="module")
def edge_server(database_url: str) -> Iterator[Server]:
    """Its own server, so its log holds only what these tests caused."""
    env = perimeter_env(
        database_url,
        MAX_CONNECTIONS=str(MAX_CONNECTIONS),
        KEEPALIVE_SECONDS=str(KEEPALIVE_SECONDS),
    )
    server = start_server(env)
    try:
        yield server
    finally:
        server.stop()


async def exchange(server: Server, raw: bytes) -> bytes:
    """Send raw bytes on a new connection; everything the server sends until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(raw)
        await writer.drain()
        async with asyncio.timeout(30):  # hang guard
            return await reader.read()
    finally:
        writer.close()


def parse(response: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


MALFORMED = {
    "header line over 8 KB": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
    + b"a" * 9000
    + b"\r\n\r\n",
    "more than 128 headers": b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    + b"".join(b"X-H%d: 1\r\n" % n for n in range(130))
    + b"\r\n",
    "Content-Length with Transfer-Encoding": b"POST /api/auth HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "not HTTP": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_request_the_parser_rejects_gets_json_with_the_security_headers(
    edge_server: Server, raw: bytes
) -> None:
    status, headers, body = parse(await exchange(edge_server, raw))

    assert 400 <= status < 500
    assert headers["content-type"].startswith("application/json")
    message = json.loads(body)["errors"]
    assert message.startswith("malformed HTTP request: ")
    for name, value in SECURITY_HEADERS.items():
        assert headers[name.lower()] == value
    assert headers["server"] == "shop"


async def test_rejections_are_logged_once_per_client_without_a_traceback(
    edge_server: Server,
) -> None:
    for _ in range(20):
        await exchange(edge_server, MALFORMED["more than 128 headers"])

    lines = [line for line in edge_server.output().splitlines() if "malformed" in line]
    assert 1 <= len(lines) <= 2  # one per worker per interval at most (all within 60 s)
    assert all(json.loads(line)["level"] == "WARNING" for line in lines)
    assert "Traceback" not in edge_server.output()
    assert "Error handling request" not in edge_server.output()


async def test_responses_name_no_framework_or_version(edge_server: Server) -> None:
    async with aiohttp.ClientSession() as http, http.get(edge_server.url + "/healthz") as response:
        assert response.headers["Server"] == "shop"


async def test_an_idle_keep_alive_connection_is_closed_by_the_server(edge_server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", edge_server.port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(30):  # hang guard; the server closes after KEEPALIVE_SECONDS
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(parse(head)[1]["content-length"])
            await reader.readexactly(length)
            assert await reader.read() == b""  # EOF: closed by the server
    finally:
        writer.close()
    assert b" 200 " in head.split(b"\r\n")[0]


async def test_connections_over_the_cap_are_refused_with_a_json_500_and_a_log_line(
    edge_server: Server,
) -> None:
    connections = [await asyncio.open_connection("127.0.0.1", edge_server.port) for _ in range(20)]
    try:
        async with asyncio.timeout(30):  # hang guard: accepted ones close when idle
            answers = await asyncio.gather(*(reader.read() for reader, _ in connections))
    finally:
        for _, writer in connections:
            writer.close()

    refused = [parse(answer) for answer in answers if answer]
    assert len(refused) >= 20 - 2 * MAX_CONNECTIONS
    for status, headers, body in refused:
        assert status == 500
        assert headers["retry-after"] == "1"
        assert json.loads(body) == {"errors": "too many connections to this server; try again"}
        assert headers["x-content-type-options"] == "nosniff"
    assert "connection limit reached" in edge_server.output()
    assert "Task exception was never retrieved" not in edge_server.output()


@pytest.fixture(scope="module")
def strict_server(database_url: str) -> Iterator[Server]:
    """Short deadlines and a small per-address cap, with a client address of its own."""
    env = perimeter_env(
        database_url,
        TRUSTED_PROXIES="",
        HEADERS_TIMEOUT_SECONDS="1",
        BODY_TIMEOUT_SECONDS="1",
        MAX_CONNECTIONS_PER_ADDRESS="3",
        WORKERS="1",
    )
    server = start_server(env)
    try:
        yield server
    finally:
        server.stop()


async def open_from(
    server: Server, source: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port, local_addr=(source, 0))


async def test_a_body_that_does_not_arrive_in_time_gets_a_json_408_and_is_closed(
    strict_server: Server,
) -> None:
    reader, writer = await open_from(strict_server, "127.0.0.3")
    try:
        writer.write(b"POST /api/auth HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
        async with asyncio.timeout(15):  # hang guard; the deadline is 1 s
            answer = await reader.read()
    finally:
        writer.close()
    status, headers, body = parse(answer)
    assert status == 408
    assert headers["connection"] == "close"
    assert json.loads(body)["errors"].startswith("request body not received in time")


async def test_a_connection_that_never_sends_its_headers_is_closed_at_the_deadline(
    strict_server: Server,
) -> None:
    reader, writer = await open_from(strict_server, "127.0.0.4")
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never the blank line
        async with asyncio.timeout(15):  # hang guard; the deadline is 1 s, keep-alive 60 s
            assert await reader.read() == b""
    finally:
        writer.close()


async def test_connections_over_the_per_address_cap_get_a_json_429_without_a_traceback(
    strict_server: Server,
) -> None:
    held = [await open_from(strict_server, "127.0.0.5") for _ in range(3)]
    try:
        answers = []
        for _ in range(50):
            reader, writer = await open_from(strict_server, "127.0.0.5")
            async with asyncio.timeout(15):
                answers.append(await reader.read())
            writer.close()
        # another address is not held back by this one's cap
        async with (
            aiohttp.ClientSession() as http,
            http.get(strict_server.url + "/healthz") as response,
        ):
            assert response.status == 200
    finally:
        for _, writer in held:
            writer.close()
    for status, headers, body in map(parse, answers):
        assert status == 429
        assert headers["retry-after"] == "1"
        assert json.loads(body)["errors"].startswith("too many connections from your address")
    await asyncio.sleep(0.5)  # let a late task exception, if any, reach the log
    output = strict_server.output()
    assert output.count("connection limit per address reached") == 1
    assert "Task exception was never retrieved" not in output
    assert "Traceback" not in output
