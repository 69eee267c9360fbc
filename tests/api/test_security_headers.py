"""Every response, successful or not, carries the same security headers."""

from __future__ import annotations

import pytest

from tests.api.conftest import MakeEmployee
from tests.helpers import ShopClient, bearer

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


@pytest.mark.parametrize(
    ("method", "path", "body", "authorized", "status"),
    [
        ("GET", "/api/info", None, True, 200),
        ("GET", "/api/buy/pen", None, True, 200),
        ("POST", "/api/sendCoin", {"toUser": "nobody", "amount": 1}, True, 400),
        ("GET", "/api/info", None, False, 401),
        ("POST", "/api/auth", {"username": "x"}, False, 400),
        ("GET", "/api/nowhere", None, False, 404),
        ("DELETE", "/api/info", None, True, 405),
        ("POST", "/api/auth", "x" * 70_000, False, 413),
        ("GET", "/api/openapi.yaml", None, False, 200),
        ("GET", "/healthz", None, False, 200),
        ("GET", "/readyz", None, False, 200),
    ],
)
async def test_security_headers_are_on_every_response(
    client: ShopClient,
    make_employee: MakeEmployee,
    method: str,
    path: str,
    body: object,
    authorized: bool,
    status: int,
) -> None:
    headers = bearer((await make_employee()).token) if authorized else {}
    kwargs = {"data": body} if isinstance(body, str) else {"json": body}

    response = await client.http.request(method, path, headers=headers, **kwargs)

    assert response.status == status, await response.text()
    assert {name: response.headers.get(name) for name in EXPECTED} == EXPECTED
