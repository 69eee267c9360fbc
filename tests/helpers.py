"""A thin client for the endpoints that asserts the status and parses the body."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import aiohttp
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from shop.models import AuthResponse, HistoryResponse
from tests.contract import InfoResponse

HASH_WAIT_SECONDS = 60
"""How long the suite's apps and servers let a login wait for a bcrypt thread: a hang guard.
The production deadline (2 s) is a timing a loaded machine misses, turning a burst of logins
into 500s; the tests about the deadline set their own."""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def expect(response: Any, expected_status: int) -> Any:
    """Assert the status; for errors also the contract's JSON body. Return the parsed body."""
    text = await response.text()
    assert response.status == expected_status, f"{response.status}: {text}"
    if expected_status >= 400:
        assert response.content_type == "application/json", text
        body = await response.json()
        assert set(body) == {"errors"}, body
        assert isinstance(body["errors"], str), body
        assert body["errors"], body
        return body
    return (await response.json()) if text else None


PASSWORD = "pw"
"""The password of employees whose password a test does not care about."""


class LoginAttempt(NamedTuple):
    """What POST /api/auth answered; unpacks as (status, body, headers)."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def said(self) -> tuple[int, str]:
        """The status, with the token or else the error message."""
        return self.status, self.body.get("token") or self.body["errors"]


async def attempt_login(
    http: aiohttp.ClientSession | TestClient,
    username: str,
    password: str = PASSWORD,
    *,
    url: str = "",
    headers: dict[str, str] | None = None,
) -> LoginAttempt:
    """POST /api/auth over HTTP, whatever the answer (always JSON). `url` is the server's base
    URL; a TestClient knows its own."""
    async with http.post(
        url + "/api/auth", json={"username": username, "password": password}, headers=headers
    ) as response:
        assert response.content_type == "application/json", await response.text()
        return LoginAttempt(response.status, await response.json(), dict(response.headers))


async def login(
    http: aiohttp.ClientSession | TestClient,
    username: str,
    password: str = PASSWORD,
    *,
    url: str = "",
) -> str:
    """Log in over HTTP (the first login registers) and return the token; anything but 200
    fails the test."""
    attempt = await attempt_login(http, username, password, url=url)
    assert attempt.status == 200, attempt
    return AuthResponse.model_validate(attempt.body).token


async def login_all(
    http: aiohttp.ClientSession | TestClient, usernames: list[str], *, url: str = ""
) -> dict[str, str]:
    """Log each employee in, one after the other; their tokens by name."""
    return {name: await login(http, name, url=url) for name in usernames}


class ShopClient:
    def __init__(self, client: TestClient) -> None:
        self.http = client

    async def auth(self, username: str, password: str, expected_status: int = 200) -> str:
        """The token when 200 is expected (see `login`); else the refusal is checked, and ""."""
        if expected_status == 200:
            return await login(self.http, username, password)
        response = await self.http.post(
            "/api/auth", json={"username": username, "password": password}
        )
        await expect(response, expected_status)
        return ""

    async def info(self, token: str, expected_status: int = 200) -> InfoResponse | None:
        response = await self.http.get("/api/info", headers=bearer(token))
        body = await expect(response, expected_status)
        return InfoResponse.model_validate(body) if expected_status == 200 else None

    async def send_coin(
        self, token: str, to_user: str, amount: Any, expected_status: int = 200
    ) -> dict[str, Any] | None:
        response = await self.http.post(
            "/api/sendCoin", json={"toUser": to_user, "amount": amount}, headers=bearer(token)
        )
        return await expect(response, expected_status)

    async def buy(self, token: str, item: str, expected_status: int = 200) -> dict[str, Any] | None:
        response = await self.http.get(f"/api/buy/{item}", headers=bearer(token))
        return await expect(response, expected_status)

    async def history(
        self, token: str, expected_status: int = 200, **params: str | int
    ) -> HistoryResponse | dict[str, Any]:
        """One page of /api/history; the error body when a 4xx/5xx is expected."""
        response = await self.http.get(
            "/api/history", params={k: str(v) for k, v in params.items()}, headers=bearer(token)
        )
        body = await expect(response, expected_status)
        return HistoryResponse.model_validate(body) if expected_status == 200 else body

    async def walk_history(self, token: str, limit: int) -> list[str]:
        """Follow `next` from the first page to the last; the ids in the order given."""
        ids: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": limit}
            if cursor is not None:
                params["before"] = cursor
            page = await self.history(token, **params)
            assert isinstance(page, HistoryResponse)
            assert len(page.entries) <= limit
            ids.extend(entry.id for entry in page.entries)
            if page.next is None:
                return ids
            assert page.entries, "a page with a next cursor must not be empty"
            cursor = page.next


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


async def run_shop(*args: str, env: dict[str, str]) -> Completed:
    """Run the `shop` command in a subprocess, as an operator would."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shop",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(120):
        stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return Completed(process.returncode, stdout.decode(), stderr.decode())


def sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus exposition (0 when absent)."""
    for family in text_string_to_metric_families(exposition):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`shop serve` in a subprocess (its own process group) on a free port.

    Output goes to a file, not a pipe, so a chatty server never blocks on a full pipe.
    """

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self._output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in ensure_dead()
        self._final_output = ""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shop", "serve"],
            env={
                **os.environ,
                "PORT": str(self.port),
                "HOST": "127.0.0.1",
                "HASH_WAIT_SECONDS": str(HASH_WAIT_SECONDS),
                # Connections on demand: several test servers share one PostgreSQL (a fresh
                # one allows 100 connections), and a fixed pool would hold 16 per worker.
                "POOL_MIN_SIZE": "1",
                **env,
            },
            stdout=self._output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def wait_ready(self, seconds: float = 60) -> None:
        """Return once /healthz answers 200; fail at once if the server exits. `seconds` is
        only a hang guard."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            with contextlib.suppress(aiohttp.ClientError):
                async with (
                    aiohttp.ClientSession() as session,
                    session.get(self.url + "/healthz") as response,
                ):
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"server did not start within {seconds} s:\n{self.output()}")

    def accepts_connections(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def output(self) -> str:
        if not self._output.closed:
            self._output.seek(0)
            self._final_output = self._output.read()
        return self._final_output

    def terminate(self) -> None:
        """SIGTERM to the supervisor only, as `docker stop` does."""
        self.process.send_signal(signal.SIGTERM)

    def group_alive(self) -> bool:
        """Whether any process of the server (the supervisor or a worker) still runs."""
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def interrupt(self) -> None:
        """SIGINT to every process of the server, as Ctrl-C in a terminal does."""
        os.killpg(self.process.pid, signal.SIGINT)

    def kill(self) -> None:
        """SIGKILL to every process of the server at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    async def wait_exit(self, seconds: float = 30) -> int:
        deadline = time.monotonic() + seconds
        while (code := self.process.poll()) is None:
            assert time.monotonic() < deadline, "server did not exit"
            await asyncio.sleep(0.05)
        return code

    def stop(self) -> tuple[int, str]:
        """SIGTERM, wait, and leave nothing behind; the exit code and the output."""
        try:
            self.terminate()
            self.process.wait(timeout=30)
        finally:
            self.ensure_dead()
        return self.process.returncode, self.output()

    def ensure_dead(self) -> None:
        """Leave no process behind, whatever the test did."""
        if self.process.poll() is None:
            self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.output()
        self._output.close()
