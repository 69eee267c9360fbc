"""Every write click carries a fresh Idempotency-Key; retrying that click sends the same key."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from tests.web.shop_page import Api, buy_button, log_in, open_view, send

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def lose_first_answer(keys: list[str]):
    """The first request reaches the server, its answer is lost; later ones pass."""

    def handle(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            route.fetch()
            route.abort("internetdisconnected")
        else:
            route.continue_()

    return handle


def test_a_send_retried_after_a_lost_answer_repeats_its_key(
    page: Page, username: str, api: Api
) -> None:
    api.login(f"{username}-colleague")
    log_in(page, username)
    open_view(page, "Send coins")
    keys: list[str] = []
    page.route("**/api/sendCoin", lose_first_answer(keys))

    send(page, f"{username}-colleague", "7")
    expect(page.locator("#send-error")).to_contain_text("Could not reach the shop")
    page.get_by_role("button", name="Send").click()  # the retry of that click
    expect(page.locator("#send-done")).to_have_text(f"Sent 7 coins to {username}-colleague.")
    send(page, f"{username}-colleague", "7")  # a new click
    expect(page.locator("#send-done")).to_have_text(f"Sent 7 coins to {username}-colleague.")

    assert len(keys) == 3
    assert all(UUID.match(key) for key in keys)
    assert keys[0] == keys[1] != keys[2]


def test_a_purchase_retried_after_a_lost_answer_repeats_its_key(page: Page, username: str) -> None:
    log_in(page, username)
    open_view(page, "Shop")
    keys: list[str] = []
    page.route("**/api/buy/*", lose_first_answer(keys))

    buy_button(page, "pen").click()
    expect(page.locator("#shop-error")).to_contain_text("Could not reach the shop")
    buy_button(page, "pen").click()
    expect(page.locator("#shop-done")).to_have_text("Bought one pen.")
    buy_button(page, "pen").click()
    expect(page.locator("#shop-done")).to_have_text("Bought one pen.")

    assert len(keys) == 3
    assert all(UUID.match(key) for key in keys)
    assert keys[0] == keys[1] != keys[2]
