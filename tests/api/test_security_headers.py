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


PAGE_POLICY_PARTS = ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'")


@pytest.mark.parametrize("path", ["/", "/docs"])
async def test_pages_get_a_strict_policy_that_allows_nothing_inline(
    client: ShopClient, path: str
) -> None:
    response = await client.http.get(path)

    assert response.status == 200
    assert response.content_type == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert all(part in policy for part in PAGE_POLICY_PARTS), policy
    assert "unsafe" not in policy
    assert "script-src" not in policy  # scripts fall back to default-src 'self'
    others = {k: v for k, v in EXPECTED.items() if k != "Content-Security-Policy"}
    assert {name: response.headers.get(name) for name in others} == others


@pytest.mark.parametrize(
    "path",
    ["/app/main.js", "/app/app.css", "/api/items", "/docs/assets/swagger-ui.css", "/app/nope.js"],
)
async def test_everything_but_the_pages_keeps_the_api_policy(client: ShopClient, path: str) -> None:
    response = await client.http.get(path)

    assert response.headers["Content-Security-Policy"] == EXPECTED["Content-Security-Policy"]
