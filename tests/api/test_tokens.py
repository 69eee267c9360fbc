"""Bearer JWT authentication of every endpoint but /api/auth: what a token must be to pass."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator

import jwt
import pytest
from aiohttp.test_utils import TestClient

from shop.app import create_app
from shop.auth.tokens import deployment_uri
from shop.config import Settings
from shop.db import migrate
from tests.api.conftest import MakeEmployee
from tests.conftest import TEST_SECRET, create_database, drop_database
from tests.helpers import ShopClient, bearer, expect

OTHER_DEPLOYMENT = "00000000-0000-4000-8000-00000000abcd"
TTL = 24 * 3600  # the suite's JWT_TTL_SECONDS (the default)


def forge(payload: dict[str, object], key: str = TEST_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def claims(
    deployment: str, sub: str = "1", name: str = "employee0", ttl: int = 3600
) -> dict[str, object]:
    now = int(time.time())
    uri = deployment_uri(deployment)
    return {"iss": uri, "aud": uri, "sub": sub, "name": name, "iat": now, "exp": now + ttl}


def without(payload: dict[str, object], claim: str) -> dict[str, object]:
    return {k: v for k, v in payload.items() if k != claim}


def unsigned(payload: dict[str, object]) -> str:
    header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    body = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(payload).encode()).decode()
    return f"{header}.{body}."


Header = Callable[[str], str | None]
"""The Authorization header of a case, given this deployment's id."""

BAD_HEADERS: dict[str, Header] = {
    "no header": lambda _d: None,
    "empty": lambda _d: "",
    "no scheme": lambda _d: "TOKEN",
    "basic scheme": lambda _d: "Basic dXNlcjpwYXNz",
    "bearer without token": lambda _d: "Bearer ",
    "token with spaces": lambda _d: "Bearer a b",
    "garbage token": lambda _d: "Bearer not.a.jwt",
    "forged signature": lambda d: (
        "Bearer " + forge(claims(d), key="another-secret-0123456789-abcdefgh")
    ),
    "alg none": lambda d: "Bearer " + unsigned(claims(d)),
    "expired": lambda d: "Bearer " + forge(claims(d, ttl=-10)),
    "no exp": lambda d: "Bearer " + forge(without(claims(d), "exp")),
    "no sub": lambda d: "Bearer " + forge(without(claims(d), "sub")),
    "non-numeric sub": lambda d: "Bearer " + forge(claims(d, sub="abc")),
    "unknown employee": lambda d: "Bearer " + forge(claims(d, sub="999999")),
    "name of someone else": lambda d: "Bearer " + forge(claims(d, name="intruder")),
    "HS512 token": lambda d: "Bearer " + forge(claims(d), algorithm="HS512"),
    # Issue 19, item 4: tokens that mean one person in one deployment, for a bounded time.
    "no iss": lambda d: "Bearer " + forge(without(claims(d), "iss")),
    "no aud": lambda d: "Bearer " + forge(without(claims(d), "aud")),
    "iss and aud of another deployment": lambda _d: "Bearer " + forge(claims(OTHER_DEPLOYMENT)),
    "aud of another deployment": lambda d: (
        "Bearer " + forge({**claims(d), "aud": deployment_uri(OTHER_DEPLOYMENT)})
    ),
    "iss of another deployment": lambda d: (
        "Bearer " + forge({**claims(d), "iss": deployment_uri(OTHER_DEPLOYMENT)})
    ),
    "exp in year 9999": lambda d: "Bearer " + forge({**claims(d), "exp": 253_402_300_799}),
    "lifetime one second beyond the cap": lambda d: "Bearer " + forge(claims(d, ttl=TTL + 1)),
    "no iat": lambda d: "Bearer " + forge(without(claims(d), "iat")),
    "iat in the future": lambda d: (
        "Bearer "
        + forge({**claims(d), "iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200})
    ),
}


@pytest.mark.parametrize("header", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/info"), ("GET", "/api/buy/pen"), ("POST", "/api/sendCoin")],
)
async def test_bad_bearer_token_is_unauthorized_and_changes_nothing(
    client: ShopClient,
    make_employee: MakeEmployee,
    deployment_id: str,
    header: Header,
    method: str,
    path: str,
) -> None:
    employee = await make_employee(username="employee0")  # id 1: what the forged claims name
    await make_employee(username="colleague")
    value = header(deployment_id)
    headers = {} if value is None else {"Authorization": value}

    response = await client.http.request(
        method, path, headers=headers, json={"toUser": "colleague", "amount": 5}
    )

    await expect(response, 401)
    info = await client.info(employee.token)
    assert info is not None
    assert info.coins == 1000


async def test_valid_token_with_lowercase_scheme_is_accepted(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    employee = await make_employee()

    response = await client.http.get(
        "/api/info", headers={"Authorization": f"bearer {employee.token}"}
    )

    await expect(response, 200)


async def test_correctly_signed_token_of_existing_employee_is_accepted(
    client: ShopClient, make_employee: MakeEmployee, deployment_id: str
) -> None:
    """The control for the table above: the same claims, signed right, do pass."""
    await make_employee(username="employee0")

    response = await client.http.get(
        "/api/info", headers={"Authorization": f"Bearer {forge(claims(deployment_id))}"}
    )

    await expect(response, 200)


@pytest.fixture(scope="module")
def other_database_url(admin_url: str) -> Iterator[str]:
    """The database of a second deployment: migrated, so with a deployment id of its own."""
    name, url = create_database(admin_url)
    try:
        migrate.apply(url)
        yield url
    finally:
        drop_database(admin_url, name)


@pytest.fixture
async def other_deployment(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    app_settings: Settings,
    other_database_url: str,
) -> ShopClient:
    """A second deployment given the same JWT_SECRET as the first."""
    settings = app_settings.model_copy(
        update={"database_url": other_database_url, "database_pooler": "none"}
    )
    return ShopClient(await aiohttp_client(create_app(settings)))


async def test_a_token_of_another_deployment_with_the_same_key_is_refused(
    client: ShopClient, other_deployment: ShopClient
) -> None:
    """The attack of issue 19: the same id and name exist in both deployments."""
    theirs = await other_deployment.auth("employee0", "their-password")
    ours = await client.auth("employee0", "our-password")
    assert jwt.get_unverified_header(theirs) == jwt.get_unverified_header(ours)

    for path in ("/api/info", "/api/buy/pen", "/api/history"):
        await expect(await client.http.get(path, headers=bearer(theirs)), 401)
    await expect(await other_deployment.http.get("/api/info", headers=bearer(ours)), 401)
    info = await client.info(ours)
    assert info is not None
    assert (info.coins, info.inventory) == (1000, [])
