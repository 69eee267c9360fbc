"""axe-core finds no serious or critical accessibility violation on any view, at either width.

axe-core is the npm package's build (axe.min.js, 4.12.1) as shipped inside the
`axe-playwright-python` package from PyPI, a test-only dependency: the test injects it into the
page itself and runs it there, so the page never serves it and nothing is fetched at test time.
"""

from __future__ import annotations

from collections import Counter
from importlib import resources

import pytest
from playwright.sync_api import Page

from tests.web.conftest import DESKTOP, PHONE, NewPage
from tests.web.shop_page import Api
from tests.web.views import VIEWS, give_history, visit_each_view

AXE_SOURCE = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text()
BLOCKING = {"serious", "critical"}


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core on the page as it is (injected over the devtools protocol, no <script>)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")["violations"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375px", "1280px"])
def test_no_serious_or_critical_violations_on_any_view(
    new_page: NewPage, api: Api, username: str, viewport: dict[str, int]
) -> None:
    give_history(api, username)
    page = new_page(viewport)
    blocking: dict[str, list[str]] = {}
    counts: dict[str, Counter[str]] = {}

    for view in visit_each_view(page, username):
        violations = axe_violations(page)
        counts[view] = Counter(v["impact"] for v in violations)
        blocking[view] = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
            for v in violations
            if v["impact"] in BLOCKING
        ]

    print(f"axe-core at {viewport['width']}px, violations by impact:", dict(counts))  # noqa: T201
    assert list(counts) == list(VIEWS)
    assert blocking == {view: [] for view in VIEWS}


def test_axe_would_catch_an_unlabelled_field(page: Page) -> None:
    """The check above can fail: a field without a label is a critical violation."""
    page.goto("/")
    page.evaluate("() => document.querySelector('label[for=login-username]').remove()")

    ids = {v["id"]: v["impact"] for v in axe_violations(page)}

    assert ids.get("label") == "critical"
