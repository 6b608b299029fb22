"""Pages in French and German in a real browser (issue 17): the questionnaire and the policymaker's report
pass axe-core in each, with `<html lang>` right, and the language switch works without JavaScript."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import expect

POLICYMAKER, PASSWORD = "policymaker@example.org", "demo-policymaker-password"


@pytest.fixture(scope="module")
def demo_responses() -> int:
    return 300


def _in(live_server, code: str, message: str) -> str:
    with live_server.app.test_request_context(), force_locale(code):
        return _(message)


@pytest.mark.parametrize("code", ["fr", "de"])
def test_the_questionnaire_and_a_report_in_french_and_german_pass_axe(live_server, new_page, checkpoint, code):
    page = new_page()
    page.goto(live_server.invite().url + f"?lang={code}")
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.get_by_role("button", name=_in(live_server, code, "Submit answers"))).to_be_visible()
    checkpoint(page, f"questionnaire-{code}")

    page.goto(live_server.link("/login"))  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("lang", code)
    page.get_by_label(_in(live_server, code, "E-mail address")).fill(POLICYMAKER)
    page.get_by_label(_in(live_server, code, "Password")).fill(PASSWORD)
    page.get_by_role("button", name=_in(live_server, code, "Log in")).click()
    page.goto(live_server.link(f"/reports/{live_server.report_wave}"))
    expect(page.locator("html")).to_have_attribute("lang", code)
    checkpoint(page, f"report-{code}")


def test_the_language_switch_works_without_javascript(live_server, new_page, checkpoint):
    page = new_page(java_script_enabled=False)
    page.goto(live_server.link("/login"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("button", name=_in(live_server, "de", "Log in"))).to_be_visible()
    checkpoint(page, "switched-to-german")
