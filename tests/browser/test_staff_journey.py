"""Staff journeys in a real browser: a cluster manager on a phone, an admin on a desktop.

Every page reached passes axe-core's WCAG 2.1 A and AA rules, shows no console error and fits the phone's width.
"""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect

from survey.models import Role
from survey.operations.accounts import create_user
from tests.browser.browsing import DESKTOP, PHONE

PASSWORD = "correct horse battery staple"
#: A form sent back with errors answers 422, which the browser reports on its console.
FORM_ERRORS = (r"status of 422",)


def _make_users(live_server) -> None:
    from sqlalchemy import select

    from survey.extensions import db
    from survey.models import Cluster, User

    with live_server.app_context():
        if db.session.scalars(select(User).filter_by(email="lead@example.org")).one_or_none() is None:
            cluster = db.session.scalars(select(Cluster).filter_by(slug="basque-digital")).one()
            create_user("lead@example.org", PASSWORD, Role.MANAGER, [cluster])
            create_user("root@example.org", PASSWORD, Role.ADMIN)
            db.session.commit()


def _log_in(page, live_server, email: str) -> None:
    page.goto(live_server.link("/login"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _fits(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["viewport"]["width"], f"the page is {width}px wide on a phone"


def test_a_manager_on_a_phone_adds_a_member_and_downloads_links(live_server, new_page, checkpoint):
    _make_users(live_server)
    page = new_page(**PHONE, allow_console_errors=FORM_ERRORS)

    page.goto(live_server.link("/login"))
    page.get_by_label("E-mail address").fill("lead@example.org")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("The e-mail address or the password is not right.")
    checkpoint(page, "login-failed")

    _log_in(page, live_server, "lead@example.org")
    expect(page.get_by_role("heading", name="Your clusters")).to_be_visible()
    checkpoint(page, "clusters")
    page.get_by_role("link", name="Basque Digital Cluster").click()
    checkpoint(page, "cluster")
    _fits(page)

    page.get_by_role("link", name="Add a member").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the organisation's name.")
    checkpoint(page, "member-form-errors")
    page.get_by_label("Name of the organisation").fill("Helix Labs")
    page.get_by_label("Type of organisation").select_option("sme")
    page.get_by_label("Contact person's e-mail address").fill("ana@helix.example")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Helix Labs")).to_be_visible()
    checkpoint(page, "member")
    _fits(page)

    page.get_by_role("link", name="Basque Digital Cluster").click()
    page.get_by_role("link", name="Import members from a CSV file").click()
    checkpoint(page, "import")
    _fits(page)
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "members.csv", "mimeType": "text/csv", "buffer": b"name,country\nBad,Spain\n"}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("Row 2:")
    checkpoint(page, "import-errors")

    page.goto(live_server.link(f"/manage/basque-digital/waves/{live_server.demo_wave}"))
    checkpoint(page, "wave")
    _fits(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Make links and download them (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"invitation-links-basque-digital-{live_server.demo_wave}")
    rows = list(csv.DictReader(io.StringIO(download.path().read_text("utf-8-sig"))))
    helix = next(row for row in rows if row["organisation"] == "Helix Labs")
    assert helix["contact_email"] == "ana@helix.example" and "/r/" in helix["link"]

    page.get_by_role("link", name="Your account").click()
    page.get_by_label("Name of the token").fill("spreadsheet")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("Token “spreadsheet”")).to_have_value(re.compile(r"^cts_\S{40,}$"))
    checkpoint(page, "token")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("You are logged out.")
    page.goto(live_server.link("/manage/"))
    expect(page).to_have_url(live_server.link("/login?next=/manage/"))


def test_an_admin_creates_a_user_and_a_wave(live_server, new_page, checkpoint):
    _make_users(live_server)
    page = new_page(**DESKTOP, allow_console_errors=FORM_ERRORS)
    _log_in(page, live_server, "root@example.org")
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    checkpoint(page, "admin")

    page.get_by_role("link", name="Users").click()
    checkpoint(page, "users")
    page.get_by_role("link", name="Create a user").click()
    page.get_by_label("E-mail address").fill("new@example.org")
    page.get_by_label("Cluster manager").check()
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose at least one cluster for a cluster manager.")
    checkpoint(page, "user-form-errors")
    page.get_by_label("Silesian Automotive Cluster").check()
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("heading", name="User new@example.org created")).to_be_visible()
    checkpoint(page, "user-created")

    page.goto(live_server.link("/admin/waves/new"))
    checkpoint(page, "wave-form")
    page.get_by_label("Title").fill("Cluster technology survey 2025")
    page.get_by_label("Short name for web addresses").fill("survey-2025")
    page.get_by_role("button", name="Create survey").click()
    expect(page.get_by_role("status")).to_contain_text("is created as a draft")
    checkpoint(page, "waves")
    page.get_by_role("row", name="Cluster technology survey 2025").get_by_role("link", name="Open…").click()
    expect(page.get_by_role("heading", name="Open Cluster technology survey 2025?")).to_be_visible()
    expect(page.get_by_text("Invitation links work from today.")).to_be_visible()
    checkpoint(page, "wave-open-confirmation")
    page.get_by_role("button", name="Open the survey").click()
    expect(page.get_by_role("status")).to_contain_text("is open for answers")

    page.goto(live_server.link("/admin/clusters"))
    checkpoint(page, "clusters")
    page.get_by_role("link", name="Create a cluster").click()
    checkpoint(page, "cluster-form")
