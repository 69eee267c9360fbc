"""The README's two screenshots (login and wallet), taken from the real page by this test."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.web.conftest import DESKTOP, NewPage
from tests.web.shop_page import Api, log_in

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_login_and_wallet_screenshots(new_page: NewPage, api: Api) -> None:
    # Fixed names, so the pictures only change when the page does; each test run has a fresh
    # database of its own, so these employees start with 1000 coins every time.
    me, colleague = "dana", "sam"
    mine, theirs = api.login(me), api.login(colleague)
    for item in ("t-shirt", "cup", "cup", "book"):
        api.buy(mine, item)
    api.send(mine, colleague, 120)
    api.send(theirs, me, 35)
    page = new_page(DESKTOP)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto("/")
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "login.png")
    log_in(page, me)
    expect(page.locator("#inventory-table tbody tr")).to_have_count(3)
    page.locator(":focus").blur()
    page.screenshot(path=SCREENSHOTS / "wallet.png")

    for name in ("login.png", "wallet.png"):
        assert (SCREENSHOTS / name).read_bytes().startswith(b"\x89PNG")
