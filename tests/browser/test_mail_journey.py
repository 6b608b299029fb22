"""A cluster manager on a phone writes the cluster's invitation e-mail, with a mistyped placeholder first, sets a
reminder day, checks the message before sending and sends it to a real SMTP server on loopback.

Every page reached passes axe-core's WCAG 2.1 A and AA rules and fits the phone's width.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from survey import clock
from survey.models import Cluster, Organisation
from survey.operations.setup import add_contact
from tests.browser.browsing import PHONE
from tests.mailserver import Inbox, free_port

MANAGER, PASSWORD = "manager@example.org", "demo-manager-password"
FORM_ERRORS = (r"status of 422",)


@pytest.fixture
def mail_server(live_server):
    """The live server's mail goes to an SMTP server on loopback for the test."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    config = live_server.app.config
    before = {key: config[key] for key in ("MAIL_SERVER", "MAIL_PORT", "MAIL_SECURITY", "MAIL_FROM")}
    config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_SECURITY="none", MAIL_FROM="survey@cluster.example"
    )
    yield inbox
    config.update(before)
    controller.stop()


def _fits(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["viewport"]["width"], f"the page is {width}px wide on a phone"


def test_a_manager_writes_the_invitation_sets_a_reminder_day_and_sends(live_server, mail_server, new_page, checkpoint):
    with live_server.app_context() as session:
        cluster = session.scalars(select(Cluster).filter_by(slug="basque-digital")).one()
        organisation = Organisation(name="Itsaso Sensors", country="ES", clusters=[cluster])
        session.add(organisation)
        session.flush()
        add_contact(organisation, "ane@itsaso.example", "Ane Itsaso")
        session.commit()
    page = new_page(**PHONE, allow_console_errors=FORM_ERRORS)
    page.goto(live_server.link("/login"))
    page.get_by_label("E-mail address").fill(MANAGER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(live_server.link(f"/manage/basque-digital/waves/{live_server.demo_wave}"))
    page.get_by_role("link", name="Edit the invitation e-mail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The invitation e-mail")
    checkpoint(page, "invitation-default")
    _fits(page)

    typed = "Kaixo {contact},\n\n{organisation}: please answer by {close_on}.\n{link}\n"
    page.get_by_label("Subject").fill("{cluster} asks {organisation}")
    page.get_by_label("Text").fill(typed)
    page.get_by_role("button", name="Save the text").click()
    expect(page.get_by_role("alert")).to_contain_text("{close_on} is not a placeholder.")
    expect(page.get_by_label("Text")).to_have_value(typed)
    checkpoint(page, "unknown-placeholder")

    page.get_by_label("Text").fill(typed.replace("{close_on}", "{closes_on}"))
    page.get_by_role("button", name="Save the text").click()
    expect(page.get_by_role("status")).to_contain_text("The text is saved")
    checkpoint(page, "invitation-saved")

    page.goto(live_server.link(f"/manage/basque-digital/waves/{live_server.demo_wave}/mail/reminder"))
    page.get_by_label("Send a reminder on").fill(clock.today().isoformat())
    page.get_by_role("button", name="Add this day").click()
    expect(page.locator("#schedule ~ div table")).to_contain_text("Not yet")
    checkpoint(page, "reminder-day")
    _fits(page)

    page.goto(live_server.link(f"/manage/basque-digital/waves/{live_server.demo_wave}"))
    page.get_by_label("Invitations, to members not yet e-mailed for this survey").check()
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".mail-preview")).to_contain_text("Kaixo")
    checkpoint(page, "send-preview")
    page.get_by_role("button", name="Send 1 e-mail").click()
    expect(page.locator("body")).to_contain_text("Sent to 1 members.")
    message = mail_server.to("ane@itsaso.example")[0]
    assert message["Subject"] == "Basque Digital Cluster asks Itsaso Sensors"
    assert message.get_content().startswith("Kaixo Ane Itsaso,\n\nItsaso Sensors: please answer by ")
