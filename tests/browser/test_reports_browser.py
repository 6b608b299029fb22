"""The report page in a real browser: every chart drawn by the app's own Vega under the CSP (no inline
script, no eval, no other host), on a desktop and a phone; server-drawn SVG with JavaScript off; WCAG 2.1 AA."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import PHONE

DEMO_POLICYMAKER = "policymaker@example.org"
DEMO_PASSWORD = "demo-policymaker-password"

#: The report of the demo's closed wave (what policymakers see): adoption, heat map, comparison, challenges; no
#: change between waves, for it is the first.
CHARTS = 4
QUERY = "?cluster=basque-digital&cluster=flanders-health"


@pytest.fixture(scope="module")
def demo_responses() -> int:
    return 1200


def _log_in(page, live_server) -> None:
    """Reports are for people with an account: the demo's policymaker sees every cluster."""
    page.goto(live_server.link("/login"))
    page.get_by_label("E-mail address").fill(DEMO_POLICYMAKER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_every_chart_is_drawn_in_the_browser_under_the_csp(live_server, new_page, checkpoint):
    page = new_page()
    _log_in(page, live_server)
    page.goto(live_server.link(f"/reports/{live_server.report_wave}{QUERY}"))
    expect(page.locator(".chart svg.marks")).to_have_count(CHARTS)
    expect(page.locator("img.chart-svg")).to_have_count(0)  # no fallback was needed
    # Vega drew real marks: a bar per technology and answer in the first chart.
    assert page.locator("#chart-adoption .mark-rect path").count() >= 16 * 3
    checkpoint(page, "report-desktop")


def test_the_report_fits_a_phone(live_server, new_page, checkpoint):
    page = new_page(**PHONE)
    _log_in(page, live_server)
    page.goto(live_server.link(f"/reports/{live_server.report_wave}{QUERY}"))
    expect(page.locator(".chart svg.marks")).to_have_count(CHARTS)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["viewport"]["width"], f"the page is {width}px wide on a phone"
    checkpoint(page, "report-phone")


def test_without_javascript_the_server_draws_each_chart(live_server, new_page, checkpoint):
    page = new_page(java_script_enabled=False)
    _log_in(page, live_server)
    page.goto(live_server.link(f"/reports/{live_server.report_wave}{QUERY}"))
    images = page.locator("img.chart-svg")
    expect(images).to_have_count(CHARTS)
    for index in range(CHARTS):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 100
    checkpoint(page, "report-no-javascript")
