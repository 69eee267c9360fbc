"""The web app and the API docs are served by the service itself, from the package."""

from __future__ import annotations

import pytest

from tests.helpers import ShopClient


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html"),
        ("/app/main.js", "text/javascript"),
        ("/app/app.css", "text/css"),
        ("/app/favicon.svg", "image/svg+xml"),
        ("/docs", "text/html"),
        ("/app/docs.js", "text/javascript"),
        ("/docs/assets/swagger-ui-bundle.js", "text/javascript"),
        ("/docs/assets/swagger-ui.css", "text/css"),
    ],
)
async def test_pages_and_their_files_need_no_token(
    client: ShopClient, path: str, content_type: str
) -> None:
    response = await client.http.get(path)

    assert response.status == 200, await response.text()
    assert response.content_type == content_type
    assert (await response.read()).strip()


@pytest.mark.parametrize(
    "path",
    [
        "/app/index.html",  # pages are served at their own paths only
        "/app/missing.js",
        "/app/..%2Fapp.py",
        "/app/%2E%2E%2F%2E%2E%2Fpyproject.toml",
        "/docs/assets/index.html",
        "/docs/assets/..%2F..%2F__init__.py",
    ],
)
async def test_only_the_shipped_files_are_served(client: ShopClient, path: str) -> None:
    response = await client.http.get(path)

    assert response.status == 404
    assert set(await response.json()) == {"errors"}


async def test_the_page_loads_nothing_from_another_origin(client: ShopClient) -> None:
    page = await (await client.http.get("/")).text()
    docs = await (await client.http.get("/docs")).text()

    for html in (page, docs):
        assert "http://" not in html
        assert "https://" not in html
        assert "<script>" not in html  # no inline script: the policy would refuse it
        assert "style=" not in html
