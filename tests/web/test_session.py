"""A token the server no longer accepts sends the user back to the login form, saying why."""

from __future__ import annotations

import time

import jwt
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import TEST_SECRET
from tests.web.shop_page import log_in, open_view


def swap_token(page: Page, token: str | None) -> None:
    if token is None:
        page.evaluate("() => sessionStorage.removeItem('shop.token')")
    else:
        page.evaluate("token => sessionStorage.setItem('shop.token', token)", token)


def claims(page: Page) -> dict[str, object]:
    token = page.evaluate("() => sessionStorage.getItem('shop.token')")
    return jwt.decode(token, options={"verify_signature": False})


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        # Signed with the server's key but past its expiry: what a day-old tab holds.
        (lambda c: jwt.encode({**c, "exp": int(time.time()) - 60}, TEST_SECRET), "expired"),
        # Signed with some other key: a forged or a rotated-away token.
        (lambda c: jwt.encode(c, "another-deployment-key-" * 3), "invalid token"),
        (lambda _c: "not-a-token", "invalid token"),
    ],
    ids=["expired", "other-key", "garbage"],
)
def test_a_rejected_token_returns_to_login_with_the_reason(
    page: Page, username: str, forge, reason: str
) -> None:
    log_in(page, username)
    swap_token(page, forge(claims(page)))

    page.get_by_role("link", name="Shop").click()

    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    notice = page.locator("#notice")
    expect(notice).to_contain_text("You have been logged out")
    expect(notice).to_contain_text(reason)
    expect(notice).to_contain_text("Log in again")
    assert page.evaluate("() => sessionStorage.getItem('shop.token')") is None
    expect(page.get_by_role("navigation", name="Sections")).to_be_hidden()


def test_a_token_rejected_during_a_purchase_returns_to_login(page: Page, username: str) -> None:
    log_in(page, username)
    open_view(page, "Shop")
    swap_token(page, jwt.encode({**claims(page), "exp": int(time.time()) - 1}, TEST_SECRET))

    page.get_by_role("button", name="Buy pen").click()

    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("token has expired")


def test_a_removed_token_shows_the_login_form(page: Page, username: str) -> None:
    log_in(page, username)
    swap_token(page, None)

    page.get_by_role("link", name="History").click()

    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()


def test_logging_in_again_after_expiry_restores_the_wallet(page: Page, username: str) -> None:
    log_in(page, username)
    swap_token(page, jwt.encode({**claims(page), "exp": int(time.time()) - 1}, TEST_SECRET))
    page.get_by_role("link", name="Send coins").click()
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()

    log_in(page, username)

    expect(page.locator("#wallet-coins")).to_have_text("1000")
    expect(page.locator("#notice")).to_be_empty()
