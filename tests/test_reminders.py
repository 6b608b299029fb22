"""Reminders on the days a manager sets, sent by `flask reminders send` (run by cron) to the loopback SMTP
server: once per day, however often the command runs, and only to those who have not answered."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask_babel import format_date
from sqlalchemy import select

from survey import clock
from survey.extensions import db
from survey.models import Organisation, ReminderDate
from survey.operations.setup import add_contact
from tests.conftest import complete_answers, csrf_token
from tests.mailserver import free_port, send_as_manager

# The dialect matters here: the command locks the days it sends (FOR UPDATE SKIP LOCKED on PostgreSQL).
pytestmark = pytest.mark.both_databases

REMINDER_PAGE = "/manage/alpha/waves/wave-2021/mail/reminder"


def _add_day(client, day: str):
    html = client.get(REMINDER_PAGE).get_data(as_text=True)
    return client.post("/manage/alpha/waves/wave-2021/reminders", data={"send_on": day, "csrf_token": csrf_token(html)})


def _link(message) -> str:
    return re.search(r"http://survey\.test(/r/\S+)", message.get_content()).group(1)


@pytest.fixture
def mailed(manager_client, members, cluster_a, open_wave, inbox, monkeypatch):
    """Invitations e-mailed yesterday to Able, Baker and Dora, whose link was then revoked; Able has answered,
    Baker has saved a draft (in `baker_browser`); Eve, who had no contact person then, got her link in a mail-merge
    file."""
    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now - timedelta(days=1))  # a reminder skips those mailed that day
    dora = Organisation(name="Dora", country="ES", clusters=[cluster_a])
    eve = Organisation(name="Eve", country="ES", clusters=[cluster_a])
    db.session.add_all([dora, eve])
    db.session.flush()
    add_contact(dora, "dora@example.org", "Dora")
    db.session.commit()
    assert send_as_manager(manager_client, open_wave, "invitation").status_code == 303
    add_contact(eve, "eve@example.org", "Eve")
    db.session.commit()
    html = manager_client.get("/manage/alpha/waves/wave-2021").get_data(as_text=True)
    links = manager_client.post(
        "/manage/alpha/waves/wave-2021/links", data={"members": "missing", "csrf_token": csrf_token(html)}
    )
    assert "eve@example.org" in links.get_data(as_text=True)
    revoked = manager_client.post(
        f"/manage/alpha/waves/wave-2021/members/{dora.id}/revoke", data={"csrf_token": csrf_token(html)}
    )
    assert revoked.status_code == 303
    monkeypatch.setattr(clock, "now", lambda: now)

    respondent = manager_client.application.test_client()
    able_link, baker_link = _link(inbox.to("able@example.org")[0]), _link(inbox.to("baker@example.org")[0])
    page = respondent.get(able_link).get_data(as_text=True)
    answers = {**complete_answers(open_wave.questionnaire.parsed), "action": "submit", "csrf_token": csrf_token(page)}
    assert respondent.post(able_link, data=answers).status_code == 303
    page = respondent.get(baker_link).get_data(as_text=True)
    respondent.post(baker_link, data={"comments": "started", "action": "save", "csrf_token": csrf_token(page)})
    inbox.messages.clear()
    return SimpleNamespace(baker_link=baker_link, baker_browser=respondent)


def test_reminders_go_out_on_the_day_once_and_only_to_those_who_have_not_answered(
    manager_client, runner, mailed, open_wave, inbox, monkeypatch
):
    today = clock.today()
    html = manager_client.get(REMINDER_PAGE).get_data(as_text=True)
    text = {
        "subject": "Last call: {wave}",
        "body": "{greeting} your answers are missing: {link}",
        "csrf_token": csrf_token(html),
    }
    assert manager_client.post(REMINDER_PAGE, data=text).status_code == 303
    for day in (today, today + timedelta(days=1)):
        response = _add_day(manager_client, day.isoformat())
        assert response.status_code == 303
    page = manager_client.get(REMINDER_PAGE).get_data(as_text=True)
    assert format_date(today, "long") in page and "Not yet" in page
    wave_page = manager_client.get("/manage/alpha/waves/wave-2021").get_data(as_text=True)
    assert "Reminders go out by themselves on: " + format_date(today, "long") in wave_page

    dry = runner.invoke(args=["reminders", "send", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output == "alpha\twave-2021\twould remind 1 members at 1 addresses\n"
    assert inbox.messages == []

    first = runner.invoke(args=["reminders", "send"])
    assert first.exit_code == 0, first.output
    assert first.output == "alpha\twave-2021\treminded 1 members\t0 could not be reached\n"
    # Baker only: Able answered, Dora's link is revoked, Eve was never e-mailed (her link went by mail merge).
    assert [message["To"] for message in inbox.messages] == ["Bo Baker <baker@example.org>"]
    reminder = inbox.messages[0]
    assert reminder["Subject"] == "Last call: Survey 2021"
    assert reminder.get_content().startswith("Hello Bo Baker, your answers are missing: http://survey.test/r/")
    assert _link(reminder) == mailed.baker_link  # the first e-mail's link, which keeps working
    assert "started" in mailed.baker_browser.get(mailed.baker_link).get_data(as_text=True)

    again = runner.invoke(args=["reminders", "send"])  # cron, an hour later
    assert again.exit_code == 0 and again.output == ""
    assert len(inbox.messages) == 1
    page = manager_client.get(REMINDER_PAGE).get_data(as_text=True)
    assert page.count("Not yet") == 1  # today's is sent, tomorrow's is to come

    later = clock.now() + timedelta(days=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    tomorrow = runner.invoke(args=["reminders", "send", "--wave", "wave-2021"])
    assert tomorrow.exit_code == 0 and "reminded 1 members" in tomorrow.output
    assert [message["To"] for message in inbox.messages] == ["Bo Baker <baker@example.org>"] * 2
    assert runner.invoke(args=["reminders", "send"]).output == ""
    assert len(inbox.messages) == 2


def test_reminders_wait_for_a_mail_server_that_cannot_be_reached(app, manager_client, runner, mailed, inbox):
    assert _add_day(manager_client, clock.today().isoformat()).status_code == 303
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nobody listens there
    failed = runner.invoke(args=["reminders", "send"])
    assert failed.exit_code == 1
    assert "could not be reached" in failed.output and "go out at the next run" in failed.output
    assert inbox.messages == []
    assert db.session.scalars(select(ReminderDate.sent_at)).one() is None

    app.config["MAIL_PORT"] = port
    retried = runner.invoke(args=["reminders", "send"])
    assert retried.exit_code == 0 and "reminded 1 members" in retried.output
    assert [message["To"] for message in inbox.messages] == ["Bo Baker <baker@example.org>"]


def test_a_reminder_day_falls_while_the_survey_takes_answers(manager_client, members, open_wave, inbox):
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    response = _add_day(manager_client, yesterday)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose today or a later day." in page and f'value="{yesterday}"' in page

    after_close = (open_wave.closes_on + timedelta(days=1)).isoformat()
    response = _add_day(manager_client, after_close)
    assert response.status_code == 422
    assert f"Choose a day by {format_date(open_wave.closes_on, 'long')}, when the survey closes." in (
        response.get_data(as_text=True)
    )
    assert db.session.scalars(select(ReminderDate)).all() == []


def test_a_reminder_day_can_be_removed_before_it_comes(manager_client, runner, mailed, inbox):
    tomorrow = clock.today() + timedelta(days=1)
    _add_day(manager_client, tomorrow.isoformat())
    reminder = db.session.scalars(select(ReminderDate)).one()
    html = manager_client.get(REMINDER_PAGE).get_data(as_text=True)
    removed = manager_client.post(
        f"/manage/alpha/waves/wave-2021/reminders/{reminder.id}/delete", data={"csrf_token": csrf_token(html)}
    )
    assert removed.status_code == 303
    page = manager_client.get(removed.headers["Location"]).get_data(as_text=True)
    assert "No reminder days are set" in page and format_date(tomorrow, "long") not in page
