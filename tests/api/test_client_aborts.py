"""A client that leaves mid-request is counted as a client abort (499), never as our failure.

Issue 19: an anonymous partial POST /api/auth followed by a reset was counted as a 500 and
logged as "database unavailable", so anyone could trip the 5xx and database alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections.abc import Iterator

import aiohttp
import pytest

from tests.api.conftest import perimeter_env, start_server
from tests.helpers import Server, sample

PARTIAL_LOGIN = (
    b"POST /api/auth HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 5000\r\n\r\n"
    b'{"username": "someone", "pass'
)
"""Headers that announce 5000 bytes of body, and the first few of them."""


@pytest.fixture(scope="module")
def abort_server(database_url: str) -> Iterator[Server]:
    """One worker (its /metrics is exact) with INFO logs, so the access lines are in its log."""
    server = start_server(perimeter_env(database_url, WORKERS="1", LOG_LEVEL="INFO"))
    try:
        yield server
    finally:
        server.stop()


def send_partial_then_leave(port: int, *, reset: bool) -> None:
    """Send the partial login, wait for the server to read it, then reset (SO_LINGER 0: the
    kernel sends RST at close) or close normally (FIN, the body left incomplete)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(PARTIAL_LOGIN)
        sock.settimeout(0.3)
        # The server answers nothing before the body is complete: this only waits.
        with contextlib.suppress(TimeoutError):
            assert sock.recv(1) == b""
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def metrics_text(server: Server) -> str:
    async with aiohttp.ClientSession() as http, http.get(server.url + "/metrics") as response:
        return await response.text()


def auth_requests(exposition: str, status: str) -> float:
    return sample(
        exposition, "shop_http_requests_total", route="/api/auth", method="POST", status=status
    )


def answered(exposition: str) -> float:
    """POST /api/auth requests counted under any status."""
    return sum(auth_requests(exposition, status) for status in ("400", "408", "499", "500"))


async def settled_metrics(server: Server, before: str, aborts: int) -> str:
    """The exposition once `aborts` more requests are counted, whatever their status (the
    server notices a client leaving asynchronously); the timeout is a hang guard only."""
    async with asyncio.timeout(20):
        while True:
            after = await metrics_text(server)
            if answered(after) - answered(before) >= aborts:
                return after
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("reset", [True, False], ids=["reset", "closed mid-body"])
async def test_a_client_leaving_mid_body_is_a_client_abort_not_a_server_error(
    abort_server: Server, reset: bool
) -> None:
    aborts = 20
    before = await metrics_text(abort_server)
    log_before = len(abort_server.output().splitlines())

    for _ in range(aborts):
        await asyncio.to_thread(send_partial_then_leave, abort_server.port, reset=reset)
    after = await settled_metrics(abort_server, before, aborts)

    assert auth_requests(after, "499") - auth_requests(before, "499") == aborts
    assert auth_requests(after, "500") == auth_requests(before, "500")
    lines = [json.loads(line) for line in abort_server.output().splitlines()[log_before:]]
    access = [
        line for line in lines if line["logger"] == "shop.access" and line["path"] == "/api/auth"
    ]
    assert [line["status"] for line in access] == [499] * aborts
    assert all(line["level"] == "INFO" for line in access)
    louder = [line for line in lines if line["level"] in {"WARNING", "ERROR", "CRITICAL"}]
    assert louder == []  # no "database unavailable", no traceback
    assert "database unavailable" not in abort_server.output()


async def test_the_service_answers_normally_after_the_aborts(abort_server: Server) -> None:
    for _ in range(5):
        await asyncio.to_thread(send_partial_then_leave, abort_server.port, reset=True)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            abort_server.url + "/api/auth", json={"username": "after-aborts", "password": "pw"}
        ) as response,
    ):
        assert response.status == 200, await response.text()
