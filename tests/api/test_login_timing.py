"""An unknown username and a wrong password cost the same bcrypt work, so the time a login
takes does not tell a guesser which names exist; a locked-out name costs none.

Asserted as work done (bcrypt operations and their cost parameter, counted where bcrypt is
called), not as elapsed time, which a busy machine distorts. The time itself was measured by a
probe whose finding is in docs/performance.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import bcrypt
import pytest
from aiohttp.test_utils import TestClient

from shop.app import create_app
from shop.config import Settings
from tests.helpers import ShopClient, attempt_login

ROUNDS = 5
MAX_FAILURES = 3


def cost_of(setting: bytes) -> int:
    """The cost parameter of a bcrypt salt or hash: `$2b$<cost>$...`."""
    return int(setting.split(b"$")[2])


@pytest.fixture
def bcrypt_costs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The cost of every bcrypt operation run from now on, in order.

    Both entry points of the bcrypt package are counted (passlib hashes and verifies through
    `hashpw`; a direct user would verify with `checkpw`). list.append is atomic, and the
    hashing threads finish before the response that waited for them is sent.
    """
    costs: list[int] = []
    real_hashpw, real_checkpw = bcrypt.hashpw, bcrypt.checkpw

    def hashpw(password: bytes, salt: bytes) -> bytes:
        costs.append(cost_of(salt))
        return real_hashpw(password, salt)

    def checkpw(password: bytes, hashed_password: bytes) -> bool:
        costs.append(cost_of(hashed_password))
        return real_checkpw(password, hashed_password)

    monkeypatch.setattr(bcrypt, "hashpw", hashpw)
    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    return costs


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    app_settings: Settings,
    empty_tables: None,
) -> ShopClient:
    counted = app_settings.model_copy(
        update={
            "bcrypt_rounds": ROUNDS,
            "login_max_failures": MAX_FAILURES,
            "login_window_seconds": 3600,
        }
    )
    return ShopClient(await aiohttp_client(create_app(counted)))


async def costs_of(costs: list[int], login: Awaitable[object]) -> list[int]:
    """The bcrypt operations one login ran."""
    costs.clear()
    await login
    return list(costs)


async def test_unknown_name_and_wrong_password_run_the_same_bcrypt_work(
    client: ShopClient, bcrypt_costs: list[int]
) -> None:
    await client.auth("known", "right-password")

    unknown = await costs_of(bcrypt_costs, client.auth("never-seen", "any-password"))
    wrong = await costs_of(
        bcrypt_costs, client.auth("known", "wrong-password", expected_status=401)
    )
    right = await costs_of(bcrypt_costs, client.auth("known", "right-password"))

    assert unknown == wrong == right == [ROUNDS]


async def test_a_locked_out_name_runs_no_bcrypt_at_all(
    client: ShopClient, bcrypt_costs: list[int]
) -> None:
    await client.auth("guessed", "right-password")
    for n in range(MAX_FAILURES + 1):
        attempt = await attempt_login(client.http, "guessed", f"wrong-{n}")
        assert attempt.status == 401, attempt
        if "Retry-After" in attempt.headers:
            break
    assert "Retry-After" in attempt.headers, f"not locked after {MAX_FAILURES + 1} guesses"

    wrong = await costs_of(bcrypt_costs, client.auth("guessed", "wrong", expected_status=401))
    right = await costs_of(
        bcrypt_costs, client.auth("guessed", "right-password", expected_status=401)
    )

    assert wrong == right == []
