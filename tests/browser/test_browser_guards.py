"""The browser tests' own guards fail when they should: an axe violation, a console error, a request elsewhere.

Pages here are served by Playwright itself at a 127.0.0.1 address, so no app or server is needed.
"""

from __future__ import annotations

import pytest

from tests.browser.browsing import PHONE

ADDRESS = "http://127.0.0.1:9/guard-test"
UNLABELLED_FIELD = """<!doctype html><html lang="en"><head><title>Guard test</title></head>
<body><main><h1>Guard test</h1><form><input type="text" name="nameless"></form></main></body></html>"""


def _serve(page, html: str) -> None:
    page.route(ADDRESS, lambda route: route.fulfill(status=200, body=html, content_type="text/html; charset=utf-8"))
    page.goto(ADDRESS)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript-on", "javascript-off"])
def test_axe_violations_fail_with_a_readable_list(browsing, javascript):
    page = browsing.new_page(**PHONE, java_script_enabled=javascript)
    _serve(page, UNLABELLED_FIELD)
    with pytest.raises(AssertionError) as failure:
        browsing.check_accessibility(page)
    assert "- label (critical): Form elements must have labels" in str(failure.value)
    assert '<input type="text" name="nameless">' in str(failure.value)


def test_a_console_error_fails_the_test(browsing):
    page = browsing.new_page()
    _serve(page, UNLABELLED_FIELD.replace("</main>", "</main><script>console.error('it broke')</script>"))
    with pytest.raises(AssertionError, match="console error: it broke"):
        browsing.assert_no_problems(page)
    browsing.pages[page].problems.clear()


def test_requests_to_other_hosts_are_aborted_and_fail_the_test(browsing):
    page = browsing.new_page()
    _serve(page, UNLABELLED_FIELD.replace("</main>", '</main><img alt="" src="https://example.org/pixel.png">'))
    with pytest.raises(AssertionError, match=r"other than 127\.0\.0\.1 \(aborted\): https://example\.org/pixel\.png"):
        browsing.assert_no_problems(page)
    browsing.pages[page].problems.clear()
