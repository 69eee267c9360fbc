"""Sending coins: checks that mirror the server's, its refusals in its own words, the network."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request, expect

from tests.web.conftest import NewPage
from tests.web.shop_page import coins_in_header, log_in, open_view, send, table_rows


def test_coins_sent_show_in_both_wallets(new_page: NewPage, username: str) -> None:
    colleague = f"{username}-colleague"
    mine, theirs = new_page(), new_page()  # two people, two browser contexts
    log_in(mine, username)
    log_in(theirs, colleague)

    open_view(mine, "Send coins")
    send(mine, colleague, "30")

    expect(
        mine.get_by_role("status").filter(has_text=f"Sent 30 coins to {colleague}.")
    ).to_be_visible()
    expect(coins_in_header(mine)).to_have_text("970")
    expect(mine.get_by_label("Recipient")).to_have_value("")
    open_view(mine, "Wallet")
    assert table_rows(mine, "sent-table") == [[colleague, "30"]]
    open_view(theirs, "Shop")
    open_view(theirs, "Wallet")
    expect(theirs.locator("#wallet-coins")).to_have_text("1030")
    assert table_rows(theirs, "received-table") == [[username, "30"]]


def test_a_refused_send_shows_the_servers_message_as_it_comes(page: Page, username: str) -> None:
    log_in(page, username)
    open_view(page, "Send coins")

    with page.expect_response("**/api/sendCoin") as answer:
        send(page, f"{username}-nobody", "5")

    assert answer.value.status == 400
    expect(page.locator("#send-error")).to_have_text(answer.value.json()["errors"])
    expect(page.get_by_label("Recipient")).to_have_value(f"{username}-nobody")
    expect(page.get_by_label("Amount")).to_have_value("5")
    expect(coins_in_header(page)).to_have_text("1000")


@pytest.mark.parametrize(
    ("recipient", "amount", "message", "field"),
    [
        ("", "5", "Enter the recipient's username.", "Recipient"),
        ("{me}", "5", "You cannot send coins to yourself.", "Recipient"),
        ("bob", "", "Enter the amount as a whole number of coins.", "Amount"),
        ("bob", "2.5", "Enter the amount as a whole number of coins.", "Amount"),
        ("bob", "-3", "Enter the amount as a whole number of coins.", "Amount"),
        ("bob", "0", "The amount must be at least 1 coin.", "Amount"),
        ("bob", "1001", "You have only 1000 coins; send at most that.", "Amount"),
    ],
)
def test_the_form_refuses_what_the_server_would_without_asking_it(
    page: Page, username: str, recipient: str, amount: str, message: str, field: str
) -> None:
    log_in(page, username)
    open_view(page, "Send coins")
    sends: list[Request] = []
    page.on("request", lambda r: sends.append(r) if "/api/sendCoin" in r.url else None)

    send(page, recipient.format(me=username), amount)

    expect(page.locator("#send-error")).to_have_text(message)
    expect(page.get_by_label(field)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label(field)).to_be_focused()
    assert sends == []


def test_a_network_failure_says_so_and_keeps_what_was_typed(page: Page, username: str) -> None:
    log_in(page, username)
    open_view(page, "Send coins")
    page.route("**/api/sendCoin", lambda route: route.abort("internetdisconnected"))

    send(page, "someone", "12")

    expect(page.locator("#send-error")).to_contain_text("Could not reach the shop")
    expect(page.get_by_label("Recipient")).to_have_value("someone")
    expect(page.get_by_label("Amount")).to_have_value("12")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()


def test_an_error_page_from_a_proxy_is_put_in_words(page: Page, username: str) -> None:
    log_in(page, username)
    open_view(page, "Send coins")
    page.route(
        "**/api/sendCoin",
        lambda route: route.fulfill(status=502, body="<html>Bad Gateway</html>"),
    )

    send(page, "someone", "12")

    expect(page.locator("#send-error")).to_have_text(
        "the shop is not reachable right now; try again in a moment"
    )


def test_a_message_reaches_both_histories_as_text_never_as_markup(
    new_page: NewPage, username: str
) -> None:
    colleague = f"{username}-thanked"
    mine, theirs = new_page(), new_page()  # two people, two browser contexts
    log_in(mine, username)
    log_in(theirs, colleague)
    note = '<img src=x onerror="window.pwned=1"> for the review at 2 a.m.'

    open_view(mine, "Send coins")
    mine.get_by_label("Message").fill(note)
    with mine.expect_response("**/api/sendCoin") as answer:
        send(mine, colleague, "7")

    assert answer.value.status == 200
    assert answer.value.request.post_data_json["message"] == note
    for page, what in ((mine, f"Sent to {colleague}"), (theirs, f"Received from {username}")):
        open_view(page, "History")
        message = page.locator("#history-table tbody tr .message")
        expect(message).to_have_text(note)
        assert table_rows(page, "history-table")[0][1] == what + note
        assert page.locator("#history-table img").count() == 0
        assert page.evaluate("window.pwned") is None


def test_a_message_over_200_characters_is_refused_without_asking_the_server(
    page: Page, username: str
) -> None:
    log_in(page, username)
    open_view(page, "Send coins")
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if "/api/sendCoin" in r.url else None)
    # maxlength stops typing at 200; a pasted value set by script is what the check is for
    page.get_by_label("Message").evaluate(
        "(input, text) => { input.removeAttribute('maxlength'); input.value = text; }", "x" * 201
    )

    send(page, f"{username}-colleague", "5")

    expect(page.locator("#send-error")).to_have_text("The message must be at most 200 characters.")
    expect(page.get_by_label("Message")).to_have_attribute("aria-invalid", "true")
    assert sent == []
