"""The catalog: buying updates coins and inventory in place; what is unaffordable is disabled."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.contract import ASSIGNMENT_PRICES
from tests.web.shop_page import buy_button, coins_in_header, log_in, open_view, table_rows


def mark_document(page: Page) -> None:
    """A flag that only survives while the page is not reloaded."""
    page.evaluate("() => { window.notReloaded = true; }")


def still_same_document(page: Page) -> bool:
    return page.evaluate("() => window.notReloaded === true")


def test_the_catalog_lists_every_item_with_its_price(page: Page, username: str) -> None:
    log_in(page, username)
    open_view(page, "Shop")

    for item, price in ASSIGNMENT_PRICES.items():
        card = page.locator("#catalog li").filter(has=buy_button(page, item))
        expect(card).to_contain_text(f"{price} coins")
    expect(page.locator("#catalog li")).to_have_count(len(ASSIGNMENT_PRICES))


def test_buying_until_broke_updates_the_wallet_and_disables_every_buy(
    page: Page, username: str
) -> None:
    log_in(page, username)
    open_view(page, "Shop")
    mark_document(page)

    buy_button(page, "pink-hoody").click()
    expect(coins_in_header(page)).to_have_text("500")
    expect(page.get_by_role("status").filter(has_text="Bought one pink-hoody.")).to_be_visible()
    buy_button(page, "pink-hoody").click()

    expect(coins_in_header(page)).to_have_text("0")
    for item in ASSIGNMENT_PRICES:
        expect(buy_button(page, item)).to_be_disabled()
    expect(page.get_by_text("You need 10 more coins.").first).to_be_visible()
    assert still_same_document(page)
    open_view(page, "Wallet")
    expect(page.locator("#wallet-coins")).to_have_text("0")
    assert table_rows(page, "inventory-table") == [["pink-hoody", "2"]]


def test_only_what_is_unaffordable_is_disabled(page: Page, username: str) -> None:
    log_in(page, username)
    open_view(page, "Shop")
    for left in (700, 400, 100):
        buy_button(page, "hoody").click()
        expect(coins_in_header(page)).to_have_text(str(left))

    expect(coins_in_header(page)).to_have_text("100")
    for item, price in ASSIGNMENT_PRICES.items():
        button = buy_button(page, item)
        if price <= 100:
            expect(button).to_be_enabled()
        else:
            expect(button).to_be_disabled()


def test_a_purchase_with_the_keyboard_only(page: Page, username: str) -> None:
    page.goto("/")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Wallet", level=1)).to_be_focused()

    tab_until_focused(page, page.get_by_role("link", name="Shop"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Shop", level=1)).to_be_focused()
    tab_until_focused(page, buy_button(page, "cup"))
    page.keyboard.press("Enter")

    expect(coins_in_header(page)).to_have_text("980")
    expect(buy_button(page, "cup")).to_be_focused()  # focus stays for the next purchase
    page.keyboard.press("Enter")
    expect(coins_in_header(page)).to_have_text("960")
    expect(page.locator("#catalog li").filter(has=buy_button(page, "cup"))).to_contain_text(
        "You have 2"
    )


def tab_until_focused(page: Page, target, presses: int = 40) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")
