"""What a person does on the shop's page, in the page's own words (labels, button names)."""

from __future__ import annotations

import requests
from playwright.sync_api import Locator, Page, expect

from tests.helpers import bearer

PASSWORD = "correct horse battery"


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in from the login form and wait for the wallet."""
    if page.url == "about:blank":
        page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Wallet", level=1)).to_be_visible()
    expect(coins_in_header(page)).not_to_have_text("…")


def open_view(page: Page, name: str) -> None:
    """Follow a tab ("Wallet", "Shop", "Send coins", "History") and wait for its heading."""
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=name).click()
    heading = "Send coins" if name == "Send coins" else name
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_focused()


def coins_in_header(page: Page) -> Locator:
    return page.locator("#account-coins")


def buy_button(page: Page, item: str) -> Locator:
    return page.get_by_role("button", name=f"Buy {item}", exact=True)


def send(page: Page, recipient: str, amount: str) -> None:
    page.get_by_label("Recipient").fill(recipient)
    page.get_by_label("Amount").fill(amount)
    page.get_by_role("button", name="Send").click()


def table_rows(page: Page, table_id: str) -> list[list[str]]:
    """The cells' texts of a table's body rows."""
    return page.locator(f"#{table_id} tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )


class Api:
    """Set up state through the API itself, as another client would (no browser)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def close(self) -> None:
        self.http.close()

    def login(self, username: str, password: str = PASSWORD) -> str:
        response = self.http.post(
            f"{self.base_url}/api/auth",
            json={"username": username, "password": password},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def buy(self, token: str, item: str) -> None:
        response = self.http.get(
            f"{self.base_url}/api/buy/{item}", headers=bearer(token), timeout=30
        )
        assert response.status_code == 200, response.text

    def send(self, token: str, to_user: str, amount: int) -> None:
        response = self.http.post(
            f"{self.base_url}/api/sendCoin",
            json={"toUser": to_user, "amount": amount},
            headers=bearer(token),
            timeout=30,
        )
        assert response.status_code == 200, response.text
