"""An unknown username and a wrong password cost the same bcrypt work, so timing does not
tell a guesser which names exist. Measured at the production cost, interleaved so that load
from elsewhere on the machine hits both kinds alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from aiohttp.test_utils import TestClient

from shop.app import create_app
from shop.config import Settings
from tests.helpers import ShopClient

PRODUCTION_ROUNDS = 10
SAMPLES = 20


@dataclass(frozen=True)
class LoginTimings:
    """Median milliseconds of each kind of login."""

    unknown_name: float
    wrong_password: float
    right_password: float
    locked_out: float


async def _timed(client: ShopClient, username: str, password: str, status: int) -> float:
    started = time.perf_counter()
    await client.auth(username, password, expected_status=status)
    return (time.perf_counter() - started) * 1000


async def measure(client: ShopClient, samples: int = SAMPLES) -> LoginTimings:
    await client.auth("timing-known", "right-password")
    await client.auth("timing-locked", "right-password")
    unknown, wrong, right = [], [], []
    # A right password follows each wrong one and resets the count, so no lock-out interferes.
    for n in range(samples):
        unknown.append(await _timed(client, f"timing-new-{n}", "any-password", 200))
        wrong.append(await _timed(client, "timing-known", f"wrong-{n}", 401))
        right.append(await _timed(client, "timing-known", "right-password", 200))
    while (
        "Retry-After"
        not in (
            await client.http.post(
                "/api/auth", json={"username": "timing-locked", "password": "wrong"}
            )
        ).headers
    ):
        pass
    locked = [await _timed(client, "timing-locked", "wrong", 401) for _ in range(samples)]
    return LoginTimings(
        statistics.median(unknown),
        statistics.median(wrong),
        statistics.median(right),
        statistics.median(locked),
    )


async def test_unknown_name_and_wrong_password_take_similar_time(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    settings: Settings,
    db: asyncpg.Connection,
) -> None:
    production = settings.model_copy(
        update={
            "bcrypt_rounds": PRODUCTION_ROUNDS,
            "login_max_failures": 3,
            "login_window_seconds": 3600,
        }
    )
    client = ShopClient(await aiohttp_client(create_app(production)))

    timings = await measure(client)

    ratio = timings.wrong_password / timings.unknown_name
    assert 0.6 < ratio < 1.6, timings
    assert timings.locked_out < timings.wrong_password / 3, timings
