"""/docs: Swagger UI on the served contract; Authorize takes a token from /api/auth."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.shop_page import Api


def test_authorize_with_a_login_token_then_try_out_info(
    page: Page, api: Api, username: str
) -> None:
    token = api.login(username)
    page.goto("/docs")

    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".auth-container")
    dialog.locator("input").fill(token)
    dialog.get_by_role("button", name="Authorize").click()
    expect(dialog.get_by_role("button", name="Logout")).to_be_visible()
    page.get_by_role("button", name="Close").click()

    operation = page.locator(".opblock").filter(has_text="/api/info").first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    with page.expect_response("**/api/info") as answer:
        operation.get_by_role("button", name="Execute").click()

    assert answer.value.status == 200
    assert answer.value.request.headers["authorization"] == f"Bearer {token}"
    responses = operation.locator(".live-responses-table")
    expect(responses).to_contain_text("200")
    expect(responses).to_contain_text('"coins": 1000')


def test_try_out_without_authorizing_shows_the_401(page: Page) -> None:
    page.goto("/docs")

    operation = page.locator(".opblock").filter(has_text="/api/info").first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    with page.expect_response("**/api/info") as answer:
        operation.get_by_role("button", name="Execute").click()

    assert answer.value.status == 401
    expect(operation.locator(".live-responses-table")).to_contain_text("401")
