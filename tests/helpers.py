"""A thin client for the four endpoints that asserts the status and parses the body."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from shop.models import AuthResponse, InfoResponse


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


class ShopClient:
    def __init__(self, client: TestClient) -> None:
        self.http = client

    async def auth(self, username: str, password: str, expected_status: int = 200) -> str:
        response = await self.http.post(
            "/api/auth", json={"username": username, "password": password}
        )
        body = await expect(response, expected_status)
        return AuthResponse.model_validate(body).token if expected_status == 200 else ""

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
