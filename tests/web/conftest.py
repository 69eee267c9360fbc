"""Browser tests: Debian's Chromium, driven by Playwright, against a real `shop serve`.

Playwright's own browser download cannot work here, so the system Chromium is used
(SHOP_TEST_CHROMIUM overrides its path). Without it these tests are skipped, with the reason;
run_tests.sh installs it under CI and says in one line when it is missing elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import TEST_SECRET
from tests.helpers import Server
from tests.web.shop_page import Api

HERE = Path(__file__).parent
CHROMIUM = Path(os.environ.get("SHOP_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
HANG_GUARD_MS = 20_000  # how long a step may wait before the test fails; never a timing claim


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"browser tests skipped: no Chromium at {CHROMIUM}")
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(skip)


@pytest.fixture(scope="package")
def server(database_url: str) -> Iterator[Server]:
    """One `shop serve` for the browser tests, on the test run's database."""
    shop = Server(
        {
            "DATABASE_URL": database_url,
            "JWT_SECRET": TEST_SECRET,
            "BCRYPT_ROUNDS": "4",
            "WORKERS": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    try:
        # pytest-asyncio may run a loop around package fixtures: wait in a thread of our own.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, shop.wait_ready()).result()
        yield shop
    finally:
        shop.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    expect.set_options(timeout=HANG_GUARD_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


NewPage = Callable[..., Page]


@pytest.fixture
def new_page(browser: Browser, server: Server) -> Iterator[NewPage]:
    """Open a page in a fresh browser context (its own sessionStorage), like a new person."""
    contexts: list[BrowserContext] = []

    def open_page(viewport: dict[str, int] = DESKTOP) -> Page:
        context = browser.new_context(base_url=server.url, viewport=viewport)
        context.set_default_timeout(HANG_GUARD_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: NewPage) -> Page:
    return new_page()


@pytest.fixture
def username() -> str:
    return f"emp-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def api(server: Server) -> Iterator[Api]:
    client = Api(server.url)
    yield client
    client.close()
