"""The operator's sections: a treasurer grants, an admin gives and takes roles, and the
employee on the other side (another browser context) sees the effect."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import DESKTOP, PHONE, NewPage
from tests.web.shop_page import log_in, open_view, table_rows
from tests.web.test_accessibility import BLOCKING, axe_violations


def shop_roles(database_url: str, *args: str) -> None:
    """`shop roles ...`, as someone with database access makes the first admin."""
    done = subprocess.run(
        [sys.executable, "-m", "shop", "roles", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def tab(page: Page, name: str):
    return page.get_by_role("navigation", name="Sections").get_by_role("link", name=name)


def test_a_treasurer_grants_coins_and_the_colleague_sees_them_with_the_reason(
    new_page: NewPage, username: str, database_url: str
) -> None:
    colleague = f"{username}-staff"
    boss, staff = new_page(), new_page()
    log_in(staff, colleague)
    log_in(boss, username)
    shop_roles(database_url, "add", username, "treasurer")
    open_view(boss, "Shop")  # any navigation reads the roles again

    expect(tab(boss, "Grants")).to_be_visible()
    expect(tab(boss, "Roles")).to_be_hidden()
    expect(tab(staff, "Grants")).to_be_hidden()
    open_view(boss, "Grants")
    boss.get_by_label("Grant to").fill(colleague)
    boss.get_by_label("Coins each").fill("25")
    boss.get_by_label("Reason").fill("shipped <b>it</b>")
    boss.get_by_role("button", name="Review grant").click()
    expect(boss.locator("#grant-summary")).to_have_text(
        f"Grant 25 coins each to 1 employee(s): {colleague}, for “shipped <b>it</b>”?"
    )
    expect(boss.get_by_role("button", name="Confirm grant")).to_be_focused()
    boss.keyboard.press("Enter")

    expect(
        boss.get_by_role("status").filter(has_text="Granted 25 coins to 1 employee(s).")
    ).to_be_visible()
    open_view(staff, "Shop")
    open_view(staff, "Wallet")
    expect(staff.locator("#wallet-coins")).to_have_text("1025")
    open_view(staff, "History")
    expect(staff.locator("#history-table tbody tr .message")).to_have_text("shipped <b>it</b>")
    assert table_rows(staff, "history-table")[0][1:] == ["Grantedshipped <b>it</b>", "+25"]


def test_an_admin_gives_a_role_and_takes_it_and_the_holder_loses_it_at_once(
    new_page: NewPage, username: str, database_url: str
) -> None:
    colleague = f"{username}-helper"
    admin, helper = new_page(), new_page()
    log_in(helper, colleague)
    log_in(admin, username)
    shop_roles(database_url, "add", username, "admin")
    open_view(admin, "Shop")
    open_view(admin, "Roles")
    admin.get_by_label("Employee").fill(colleague)
    admin.get_by_label("Role", exact=True).select_option("treasurer")
    admin.get_by_role("button", name="Give role").click()
    expect(
        admin.get_by_role("status").filter(has_text=f"{colleague} holds treasurer.")
    ).to_be_visible()
    helper_rows = admin.locator("#roles-table tbody tr").filter(has_text=colleague)
    expect(helper_rows).to_have_count(1)  # the web server's database is shared by its tests

    open_view(helper, "Shop")
    expect(tab(helper, "Grants")).to_be_visible()
    open_view(helper, "Grants")
    admin.get_by_role("button", name=f"Remove treasurer from {colleague}").click()
    expect(helper_rows).to_have_count(0)

    # The tab still open on the helper's screen: the server refuses at the next request.
    helper.get_by_label("Grant to").fill(username)
    helper.get_by_label("Coins each").fill("5")
    helper.get_by_label("Reason").fill("late")
    helper.get_by_role("button", name="Review grant").click()
    with helper.expect_response("**/api/admin/grants") as answer:
        helper.get_by_role("button", name="Confirm grant").click()
    assert answer.value.status == 403
    expect(helper.locator("#grant-error")).to_have_text(answer.value.json()["errors"])
    open_view(helper, "Shop")
    expect(tab(helper, "Grants")).to_be_hidden()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375px", "1280px"])
def test_the_operator_sections_have_no_serious_accessibility_violations_and_fit(
    new_page: NewPage, username: str, database_url: str, viewport: dict[str, int]
) -> None:
    page = new_page(viewport)
    log_in(page, username)
    shop_roles(database_url, "add", username, "admin")
    open_view(page, "Shop")
    blocking: dict[str, list[str]] = {}

    for view in ("Grants", "Roles"):
        open_view(page, view)
        if view == "Grants":  # the confirmation step shown too
            page.get_by_label("Everyone").check()
            page.get_by_label("Coins each").fill("1")
            page.get_by_label("Reason").fill("a11y")
            page.get_by_role("button", name="Review grant").click()
            expect(page.get_by_role("button", name="Confirm grant")).to_be_visible()
        else:
            expect(page.locator("#roles-table tbody tr").first).to_be_visible()
        blocking[view] = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
            for v in axe_violations(page)
            if v["impact"] in BLOCKING
        ]
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    assert blocking == {"Grants": [], "Roles": []}
