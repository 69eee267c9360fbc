"""Every view of the web app, reached as a user would, for the checks that cover them all."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from playwright.sync_api import Page, expect

from tests.web.shop_page import Api, log_in, open_view

VIEWS = ("login", "wallet", "shop", "send", "history")


def give_history(api: Api, username: str) -> None:
    """Something in every table: purchases, coins sent and received."""
    mine, theirs = api.login(username), api.login(f"{username}-colleague")
    api.buy(mine, "cup")
    api.buy(mine, "pink-hoody")
    api.send(mine, f"{username}-colleague", 15)
    api.send(theirs, username, 40)


def visit_each_view(page: Page, username: str) -> Iterator[str]:
    """Go through every view in turn, yielding its name once it is shown and filled."""
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    yield "login"
    log_in(page, username)
    expect(page.locator("#inventory-table tbody tr").first).to_be_visible()
    yield "wallet"
    steps: dict[str, Callable[[], None]] = {
        "shop": lambda: expect(page.locator("#catalog li").first).to_be_visible(),
        "send": lambda: None,
        "history": lambda: expect(page.locator("#history-table tbody tr").first).to_be_visible(),
    }
    for name, tab in (("shop", "Shop"), ("send", "Send coins"), ("history", "History")):
        open_view(page, tab)
        steps[name]()
        yield name
