"""The History view pages through /api/history with "Load more", newest first."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from playwright.sync_api import Page, expect

from tests.web.shop_page import Api, log_in, open_view, table_rows

PAGE_SIZE = 20  # the page's own page size (shop/web/history.js)
MINUS = "\N{MINUS SIGN}"  # how the page writes coins going out


def test_load_more_pages_through_every_movement_once_newest_first(
    page: Page, api: Api, username: str
) -> None:
    colleague = f"{username}-colleague"
    mine, theirs = api.login(username), api.login(colleague)
    for _ in range(25):
        api.buy(mine, "pen")
    for _ in range(10):
        api.send(mine, colleague, 2)
        api.send(theirs, username, 3)
    api.send(theirs, username, 99)  # the newest movement: 46 in all

    log_in(page, username)
    open_view(page, "History")
    rows = page.locator("#history-table tbody tr")
    expect(rows).to_have_count(PAGE_SIZE)
    more = page.get_by_role("button", name="Load more")
    more.click()
    expect(rows).to_have_count(2 * PAGE_SIZE)
    more.click()

    expect(rows).to_have_count(46)
    expect(more).to_be_hidden()
    expect(page.get_by_text("That is everything.")).to_be_visible()
    shown = table_rows(page, "history-table")
    assert shown[0][1:] == [f"Received from {colleague}", "+99"]
    assert shown[-1][1:] == ["Bought pen", f"{MINUS}10"]
    assert Counter((what, coins) for _when, what, coins in shown) == {
        ("Bought pen", f"{MINUS}10"): 25,
        (f"Sent to {colleague}", f"{MINUS}2"): 10,
        (f"Received from {colleague}", "+3"): 10,
        (f"Received from {colleague}", "+99"): 1,
    }
    times = page.locator("#history-table time").evaluate_all(
        "items => items.map(t => t.getAttribute('datetime'))"
    )
    instants = [datetime.fromisoformat(at) for at in times]
    assert instants == sorted(instants, reverse=True)


def test_a_new_employee_has_no_movements(page: Page, username: str) -> None:
    log_in(page, username)
    open_view(page, "History")

    expect(page.get_by_text("No movements yet.")).to_be_visible()
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()


def test_history_shows_a_purchase_made_on_the_shop_view(page: Page, username: str) -> None:
    log_in(page, username)
    open_view(page, "Shop")
    page.get_by_role("button", name="Buy umbrella").click()
    expect(page.locator("#shop-done")).to_have_text("Bought one umbrella.")

    open_view(page, "History")

    expect(page.locator("#history-table tbody tr")).to_have_count(1)
    assert table_rows(page, "history-table")[0][1:] == ["Bought umbrella", f"{MINUS}200"]
