"""Every view is usable on a 375 px phone and a 1280 px desktop: no sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import DESKTOP, PHONE, NewPage
from tests.web.shop_page import Api, log_in
from tests.web.views import VIEWS, give_history, visit_each_view


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375px", "1280px"])
def test_every_view_fits_the_width_and_its_controls_are_on_screen(
    new_page: NewPage, api: Api, username: str, viewport: dict[str, int]
) -> None:
    give_history(api, username)
    page = new_page(viewport)
    seen = []

    for view in visit_each_view(page, username):
        seen.append(view)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{view} scrolls sideways by {overflow}px at {viewport['width']}px"
        controls = page.locator("main .view:not([hidden]) :is(button, input, a)").all()
        controls += page.locator("header button:visible, nav a:visible").all()
        for control in controls:
            if not control.is_visible():
                continue
            box = control.bounding_box()
            assert box is not None
            assert box["x"] >= 0, (view, control)
            assert box["x"] + box["width"] <= viewport["width"], (view, control)

    assert seen == list(VIEWS)


def test_the_phone_layout_stacks_the_wallet_cards(new_page: NewPage, username: str) -> None:
    phone = new_page(PHONE)
    log_in(phone, username)
    coins = phone.get_by_role("region", name="Coins").bounding_box()
    inventory = phone.get_by_role("region", name="Inventory").bounding_box()
    assert coins is not None
    assert inventory is not None
    assert inventory["y"] >= coins["y"] + coins["height"]  # one column on a phone

    desktop = new_page(DESKTOP)
    log_in(desktop, username)
    expect(desktop.get_by_role("region", name="Inventory")).to_be_visible()
    coins = desktop.get_by_role("region", name="Coins").bounding_box()
    inventory = desktop.get_by_role("region", name="Inventory").bounding_box()
    assert coins is not None
    assert inventory is not None
    assert inventory["y"] == coins["y"]  # side by side on a desktop
