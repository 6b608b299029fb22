"""A whole survey wave in a real browser (issue 16): an admin schedules it, a cluster manager edits the invitation
e-mail, previews and sends it; one member answers in two sittings, another after a reminder, through the first
e-mail's link; the admin extends the last day, closes the wave and reopens it. Every page reached passes
axe-core, and each respondent is told the right thing at each stage.

Mail goes to a real SMTP server on loopback; the days pass by moving the platform's clock (`survey.clock`).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import select

from survey import clock
from survey.models import Cluster, Organisation, Response, Wave
from survey.operations.setup import add_contact
from tests.browser.browsing import PHONE
from tests.browser.test_mail_journey import mail_server  # noqa: F401 (a fixture)
from tests.browser.test_respondent_journey import EVERYTHING, FIRST_VISIT

ADMIN, ADMIN_PASSWORD = "admin@example.org", "demo-admin-password"
MANAGER, MANAGER_PASSWORD = "manager@example.org", "demo-manager-password"
MEMBERS = {
    "Ibaia Photonics": ("Jon Ibaia", "jon@ibaia.example"),
    "Mendi Robotics": ("Nerea Mendi", "nerea@mendi.example"),
}
TITLE, SLUG = "Cluster technology survey 2027", "survey-2027"
LINK = re.compile(r"https?://\S+/r/[\w-]+")


def _long(day) -> str:
    return format_date(day, "long", locale="en")


def _log_in(page, live_server, email: str, password: str) -> None:
    page.goto(live_server.link("/login"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _fill(page, answers: dict) -> None:
    for name, value in answers.items():
        field = page.locator(f"form.questionnaire [name='{name}']")
        kind = field.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind.endswith(":radio"):
            page.locator(f"input[name='{name}'][value='{value}']").check()
        elif kind.endswith(":checkbox"):
            for each in value:
                page.locator(f"input[name='{name}'][value='{each}']").check()
        elif kind.startswith("select"):
            field.select_option(str(value))
        else:
            field.fill(str(value))


def _wave_row(page, title: str):
    return page.get_by_role("row").filter(has_text=title)


def _send(page, live_server, kind_label: str, recipients: int, checkpoint, step: str) -> None:
    page.goto(live_server.link(f"/manage/basque-digital/waves/{SLUG}"))
    page.get_by_label(kind_label).check()
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check before sending")
    checkpoint(page, step)
    button = "Send 1 e-mail" if recipients == 1 else f"Send {recipients} e-mails"
    page.get_by_role("button", name=button).click()
    expect(page.locator("body")).to_contain_text(f"Sent to {recipients} members.")


@pytest.fixture
def days(monkeypatch):
    """Move the platform's clock on by a number of days (the server runs in this process)."""
    start = clock.now()

    def move(number: int) -> None:
        monkeypatch.setattr(clock, "now", lambda: start + timedelta(days=number))

    return move


def test_a_whole_wave_from_scheduling_to_reopening(live_server, mail_server, new_page, checkpoint, days):  # noqa: F811
    today = clock.today()
    with live_server.app_context() as session:
        cluster = session.scalars(select(Cluster).filter_by(slug="basque-digital")).one()
        for name, (person, address) in MEMBERS.items():
            organisation = Organisation(name=name, country="ES", clusters=[cluster])
            session.add(organisation)
            session.flush()
            add_contact(organisation, address, person)
        session.commit()

    # The admin schedules the wave: created with its dates, then opened ahead of its first day.
    admin = new_page()
    _log_in(admin, live_server, ADMIN, ADMIN_PASSWORD)
    admin.goto(live_server.link("/admin/waves/new"))
    admin.get_by_label("Title").fill(TITLE)
    admin.get_by_label("Short name for web addresses").fill(SLUG)
    admin.get_by_label("Questionnaire").select_option("default")
    admin.get_by_label("First day for answers").fill((today + timedelta(days=3)).isoformat())
    admin.get_by_label("Last day for answers").fill((today + timedelta(days=20)).isoformat())
    admin.get_by_role("button", name="Create survey").click()
    _wave_row(admin, TITLE).get_by_role("link", name="Open…").click()
    expect(admin.locator("main")).to_contain_text(f"Invitation links will work from {_long(today + timedelta(3))}")
    checkpoint(admin, "open-confirmation")
    admin.get_by_role("button", name="Open the survey").click()
    expect(_wave_row(admin, TITLE)).to_contain_text("Scheduled")
    checkpoint(admin, "scheduled")

    # The manager edits the invitation, checks it and sends it to the two members with contact persons.
    manager = new_page(**PHONE)
    _log_in(manager, live_server, MANAGER, MANAGER_PASSWORD)
    manager.goto(live_server.link(f"/manage/basque-digital/waves/{SLUG}"))
    manager.get_by_role("link", name="Edit the invitation e-mail").click()
    manager.get_by_label("Subject").fill("{cluster} asks {organisation}: technologies in 2027")
    manager.get_by_label("Text").fill(
        "{greeting}\n\nThe Basque Digital Cluster maps the technologies its members use. Your link, from "
        "the first day:\n{link}\n\nAnswers are welcome until {closes_on}.\n"
    )
    manager.get_by_role("button", name="Save the text").click()
    expect(manager.get_by_role("status")).to_contain_text("The text is saved")
    _send(manager, live_server, "Invitations, to members not yet e-mailed for this survey", 2, checkpoint, "preview")
    first_mail = {address: mail_server.to(address)[0] for _, address in MEMBERS.values()}
    links = {address: LINK.search(message.get_content()).group(0) for address, message in first_mail.items()}
    jon, nerea = links["jon@ibaia.example"], links["nerea@mendi.example"]
    assert (
        first_mail["jon@ibaia.example"]["Subject"]
        == "Basque Digital Cluster asks Ibaia Photonics: technologies in 2027"
    )

    # Too early: the link says when it opens, not that it expired.
    respondent = new_page(allow_console_errors=(r"status of 410",))  # a link that takes no answers now
    respondent.goto(jon)
    expect(respondent.locator("main")).to_contain_text(f"opens on {_long(today + timedelta(3))}")
    checkpoint(respondent, "not-yet")

    # The first day: one member answers in two sittings.
    days(3)
    respondent.goto(jon)
    _fill(respondent, FIRST_VISIT)
    respondent.get_by_role("button", name="Save and continue later").click()
    expect(respondent.locator(".notice")).to_contain_text("Your answers are saved")
    days(5)
    respondent.goto("about:blank")
    respondent.goto(jon)
    expect(respondent.locator(".notice")).to_contain_text("You are continuing from answers saved earlier")
    checkpoint(respondent, "second-sitting")
    _fill(respondent, {k: v for k, v in EVERYTHING.items() if k not in FIRST_VISIT})
    respondent.get_by_role("button", name="Submit answers").click()
    expect(respondent.get_by_role("heading", level=1)).to_have_text("Thank you: your answers are submitted")

    # A reminder goes to the member who has not answered, with the link it already has (days later: the
    # manager's session has ended meanwhile, so a log-in first).
    _log_in(manager, live_server, MANAGER, MANAGER_PASSWORD)
    _send(manager, live_server, "Reminders, to e-mailed members that have not submitted their answers", 1, checkpoint,
          "reminder-preview")  # fmt: skip
    assert len(mail_server.to("jon@ibaia.example")) == 1  # answered: no reminder
    reminder = mail_server.to("nerea@mendi.example")[-1]
    assert LINK.search(reminder.get_content()).group(0) == nerea
    other = new_page(**PHONE)
    other.goto(nerea)  # the first e-mail's link still works
    _fill(other, EVERYTHING)
    other.get_by_role("button", name="Submit answers").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Thank you: your answers are submitted")
    checkpoint(other, "answered-after-reminder")

    # The admin gives more time, then closes the wave.
    _log_in(admin, live_server, ADMIN, ADMIN_PASSWORD)
    later = today + timedelta(days=30)
    admin.goto(live_server.link("/admin/waves"))
    _wave_row(admin, TITLE).get_by_role("link", name="Change").click()
    admin.get_by_label("Last day for answers").fill(later.isoformat())
    admin.get_by_role("button", name="Save").click()
    expect(_wave_row(admin, TITLE)).to_contain_text(re.sub(r",? \d{4}$", "", format_date(later, "medium", "en")))
    _wave_row(admin, TITLE).get_by_role("link", name="Close…").click()
    expect(admin.locator("main")).to_contain_text("2 responses are counted, from 2 invited organisations.")
    checkpoint(admin, "close-confirmation")
    admin.get_by_role("button", name="Close the survey").click()
    expect(_wave_row(admin, TITLE)).to_contain_text("Closed")
    closed_on = clock.today()
    respondent.goto(jon)
    expect(respondent.locator("main")).to_contain_text(f"closed on {_long(closed_on)}")
    expect(respondent.locator("main")).to_contain_text("answers of")
    expect(respondent.locator("main")).to_contain_text("are counted")
    checkpoint(respondent, "closed")

    # And reopens it for late answers: the confirmation names what that does and asks for the new last day.
    _wave_row(admin, TITLE).get_by_role("link", name="Reopen…").click()
    expect(admin.locator("main")).to_contain_text("withdrawn from cluster managers and policymakers")
    checkpoint(admin, "reopen-confirmation")
    admin.get_by_label("New last day for answers").fill((closed_on + timedelta(days=7)).isoformat())
    admin.get_by_role("button", name="Reopen the survey").click()
    expect(admin.get_by_role("status")).to_contain_text("is open again until")
    respondent.goto(jon)
    expect(respondent.locator("main")).to_contain_text("was reopened for organisations that had not answered")
    checkpoint(respondent, "reopened-counted")

    with live_server.app_context() as session:
        wave = session.scalars(select(Wave).filter_by(slug=SLUG)).one()
        assert wave.reopenings == 1
        answered = session.scalars(select(Response).filter_by(wave_id=wave.id)).all()
        assert len(answered) == 2 and all(response.answers["comments"] for response in answered)
