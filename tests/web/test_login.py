"""Logging in (the first login registers), logging out, and where the token lives."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.conftest import NewPage
from tests.web.shop_page import PASSWORD, Api, coins_in_header, log_in, table_rows


def test_the_login_form_says_that_the_first_login_registers(page: Page) -> None:
    page.goto("/")

    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    expect(page.get_by_text("registers you")).to_be_visible()
    expect(page.get_by_text("1000 coins")).to_be_visible()


def test_a_new_username_registers_and_sees_a_wallet_of_1000_coins(
    page: Page, username: str
) -> None:
    log_in(page, username)

    expect(page.locator("#wallet-coins")).to_have_text("1000")
    expect(coins_in_header(page)).to_have_text("1000")
    expect(page.locator("#account-name")).to_have_text(username)
    expect(page.get_by_text("Nothing bought yet.")).to_be_visible()
    expect(page.get_by_text("No coins received yet.")).to_be_visible()
    expect(page.get_by_text("No coins sent yet.")).to_be_visible()


def test_the_wallet_shows_inventory_counts_and_totals_per_colleague(
    page: Page, api: Api, username: str
) -> None:
    token = api.login(username)
    colleague = api.login(f"{username}-colleague")
    for item in ("cup", "cup", "pen"):
        api.buy(token, item)
    api.send(token, f"{username}-colleague", 7)
    api.send(token, f"{username}-colleague", 3)
    api.send(colleague, username, 25)

    log_in(page, username)

    expect(page.locator("#wallet-coins")).to_have_text(str(1000 - 20 - 20 - 10 - 10 + 25))
    assert sorted(table_rows(page, "inventory-table")) == [["cup", "2"], ["pen", "1"]]
    assert table_rows(page, "sent-table") == [[f"{username}-colleague", "10"]]
    assert table_rows(page, "received-table") == [[f"{username}-colleague", "25"]]


def test_a_wrong_password_shows_the_servers_reason_and_keeps_the_username(
    page: Page, api: Api, username: str
) -> None:
    api.login(username)
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("not the password")

    with page.expect_response("**/api/auth") as answer:
        page.get_by_role("button", name="Log in").click()

    expect(page.locator("#login-error")).to_have_text(answer.value.json()["errors"])
    expect(page.get_by_label("Username")).to_have_value(username)
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()


def test_the_token_lives_only_in_session_storage(page: Page, username: str) -> None:
    log_in(page, username)

    stored = page.evaluate("() => ({session: {...sessionStorage}, local: {...localStorage}})")
    assert list(stored["session"]) == ["shop.token"]
    assert stored["local"] == {}
    assert page.context.cookies() == []


def test_another_tab_is_not_logged_in(new_page: NewPage, username: str) -> None:
    first = new_page()
    log_in(first, username)

    second = first.context.new_page()  # same browser profile, new tab: new sessionStorage
    second.goto("/")

    expect(second.get_by_role("heading", name="Log in", level=1)).to_be_visible()


def test_log_out_forgets_the_token_and_what_was_shown(page: Page, username: str) -> None:
    log_in(page, username)

    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="You have logged out.")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    page.reload()
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    log_in(page, username, PASSWORD)  # and the same person can come back
