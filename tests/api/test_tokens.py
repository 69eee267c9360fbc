"""Bearer JWT authentication of every endpoint but /api/auth."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.api.conftest import MakeEmployee
from tests.conftest import TEST_SECRET
from tests.helpers import ShopClient, expect


def forge(payload: dict[str, object], key: str = TEST_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def claims(sub: str = "1", name: str = "employee0", ttl: int = 3600) -> dict[str, object]:
    now = int(time.time())
    return {"sub": sub, "name": name, "iat": now, "exp": now + ttl}


def unsigned(payload: dict[str, object]) -> str:
    header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    body = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(payload).encode()).decode()
    return f"{header}.{body}."


BAD_HEADERS = {
    "no header": None,
    "empty": "",
    "no scheme": "TOKEN",
    "basic scheme": "Basic dXNlcjpwYXNz",
    "bearer without token": "Bearer ",
    "token with spaces": "Bearer a b",
    "garbage token": "Bearer not.a.jwt",
    "forged signature": "Bearer " + forge(claims(), key="another-secret-0123456789-abcdefgh"),
    "alg none": "Bearer " + unsigned(claims()),
    "expired": "Bearer " + forge(claims(ttl=-10)),
    "no exp": "Bearer " + forge({"sub": "1", "name": "employee0", "iat": int(time.time())}),
    "no sub": "Bearer " + forge({"name": "employee0", "iat": 1, "exp": int(time.time()) + 60}),
    "non-numeric sub": "Bearer " + forge(claims(sub="abc")),
    "unknown employee": "Bearer " + forge(claims(sub="999999")),
    "name of someone else": "Bearer " + forge(claims(name="intruder")),
    "HS512 token": "Bearer " + forge(claims(), algorithm="HS512"),
}


@pytest.mark.parametrize("header", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/info"), ("GET", "/api/buy/pen"), ("POST", "/api/sendCoin")],
)
async def test_bad_bearer_token_is_unauthorized_and_changes_nothing(
    client: ShopClient, make_employee: MakeEmployee, header: str | None, method: str, path: str
) -> None:
    employee = await make_employee(username="employee0")  # id 1: what the forged claims name
    await make_employee(username="colleague")
    headers = {} if header is None else {"Authorization": header}

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
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    """The control for the table above: the same claims, signed right, do pass."""
    await make_employee(username="employee0")

    response = await client.http.get(
        "/api/info", headers={"Authorization": f"Bearer {forge(claims())}"}
    )

    await expect(response, 200)
