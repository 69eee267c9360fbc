"""The pages run under their strict policy without breaking it, and load nothing from elsewhere."""

from __future__ import annotations

from playwright.sync_api import Page, Request, expect

from tests.helpers import Server
from tests.web.shop_page import Api
from tests.web.views import give_history, visit_each_view

# Runs before any script of the page (over the devtools protocol, which the policy does not
# govern) and records every violation the browser reports.
RECORD_VIOLATIONS = """
window.policyViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.policyViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_the_app_breaks_no_rule_of_its_policy_in_any_view(
    page: Page, api: Api, server: Server, username: str
) -> None:
    give_history(api, username)
    page.add_init_script(RECORD_VIOLATIONS)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))

    for _view in visit_each_view(page, username):
        pass

    assert page.evaluate("() => window.policyViolations") == []
    assert {r.url.split("/")[2] for r in requests} == {server.url.split("/")[2]}


def test_the_policy_refuses_an_inline_script(page: Page) -> None:
    """The check above can fail: inline code is refused and reported."""
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto("/")

    page.evaluate(
        """() => {
          const script = document.createElement('script');
          script.textContent = 'window.injected = true';
          document.body.append(script);
        }"""
    )

    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    assert page.evaluate("() => window.injected") is None
    assert any(v.startswith("script-src") for v in page.evaluate("() => window.policyViolations"))


def test_the_docs_break_no_rule_of_their_policy(page: Page, server: Server) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))

    page.goto("/docs")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()

    assert page.evaluate("() => window.policyViolations") == []
    assert {r.url.split("/")[2] for r in requests if not r.url.startswith("data:")} == {
        server.url.split("/")[2]
    }
