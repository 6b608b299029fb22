"""Invitations and reminders by e-mail, sent to a real SMTP server on the loopback interface (aiosmtpd, the
`inbox` fixture of tests/mailserver.py), and the `members` it mails."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select

from survey import clock
from survey.extensions import db
from survey.models import Invitation, Mailing, MailKind, Organisation
from survey.operations.setup import invite_organisation
from tests.conftest import complete_answers, csrf_token
from tests.mailserver import free_port, send_as_manager


def _link(message) -> str:
    return re.search(r"http://survey\.test(/r/\S+)", message.get_content()).group(1)


def test_invitations_are_emailed_with_working_links(manager_client, members, open_wave, inbox):
    response = send_as_manager(manager_client, open_wave, "invitation")
    assert response.status_code == 303
    assert "Sent to 2 members." in manager_client.get(response.headers["Location"]).get_data(as_text=True)

    assert len(inbox.messages) == 3  # one per contact person; Charlie has none
    able = inbox.to("able@example.org")[0]
    assert able["To"] == "Alba Able <able@example.org>"
    assert able["From"] == "Cluster survey <survey@cluster.example>"
    assert able["Subject"] == "Invitation: Survey 2021"
    assert re.fullmatch(r"<[^<>@]+@cluster\.example>", able["Message-ID"])
    body = able.get_content()
    assert body.startswith("Hello Alba Able,") and "Alpha Cluster invites Able" in body
    assert inbox.to("second@example.org")[0].get_content().startswith("Hello,")
    # Both of Able's contacts get the same link, and it opens the questionnaire.
    assert _link(able) == _link(inbox.to("second@example.org")[0])
    assert manager_client.application.test_client().get(_link(able)).status_code == 200

    mailings = db.session.scalars(select(Mailing).order_by(Mailing.id)).all()
    assert [(m.kind, m.recipients) for m in mailings] == [(MailKind.INVITATION, 2), (MailKind.INVITATION, 1)]
    assert "(no contact)" in manager_client.get(f"/manage/alpha/waves/{open_wave.slug}").get_data(as_text=True)

    # Invitations go once: sending again reaches nobody.
    again = send_as_manager(manager_client, open_wave, "invitation")
    assert "Nobody to send to" in manager_client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(inbox.messages) == 3


def test_reminders_go_to_those_who_have_not_answered_with_the_same_link(manager_client, members, open_wave, inbox):
    send_as_manager(manager_client, open_wave, "invitation")
    respondent = manager_client.application.test_client()
    able_link, baker_link = _link(inbox.to("able@example.org")[0]), _link(inbox.to("baker@example.org")[0])
    page = respondent.get(able_link).get_data(as_text=True)
    answers = complete_answers(open_wave.questionnaire.parsed)
    assert (
        respondent.post(able_link, data={**answers, "action": "submit", "csrf_token": csrf_token(page)}).status_code
        == 303
    )
    page = respondent.get(baker_link).get_data(as_text=True)
    respondent.post(baker_link, data={"comments": "started", "action": "save", "csrf_token": csrf_token(page)})
    inbox.messages.clear()

    assert send_as_manager(manager_client, open_wave, "reminder").status_code == 303
    assert [m["To"] for m in inbox.messages] == ["Bo Baker <baker@example.org>"]
    reminder = inbox.messages[0]
    assert reminder["Subject"] == "Reminder: Survey 2021"
    assert _link(reminder) == baker_link  # the first e-mail's link, which keeps working
    assert "started" in respondent.get(baker_link).get_data(as_text=True)  # with the answers saved through it


def test_a_refused_address_leaves_that_member_as_it_was(manager_client, members, open_wave, inbox):
    _, earlier = invite_organisation(open_wave, members["Baker"], clock.now())
    db.session.commit()
    inbox.refuse = {"baker@example.org"}
    response = send_as_manager(manager_client, open_wave, "invitation")
    page = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sent to 1 members." in page and "refused the messages to Baker" in page
    client = manager_client.application.test_client()
    assert client.get(f"/r/{earlier}").status_code == 200  # Baker keeps the link it had
    assert db.session.scalar(select(func.count()).select_from(Mailing)) == 1


def test_an_unreachable_mail_server_changes_nothing(app, manager_client, members, open_wave, inbox):
    app.config["MAIL_PORT"] = free_port()  # nobody listens there
    response = send_as_manager(manager_client, open_wave, "invitation")
    assert response.status_code == 502
    assert "could not be reached" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_mail_leaves_no_address_or_link_in_the_logs(manager_client, members, open_wave, inbox, caplog):
    caplog.set_level("DEBUG")
    inbox.refuse = {"baker@example.org"}
    send_as_manager(manager_client, open_wave, "invitation")
    assert inbox.messages
    # Everything the platform logged (the test's SMTP server, logger "mail.log", is not the platform).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert "sent invitation e-mails" in logged
    for secret in ("able@example.org", "second@example.org", "baker@example.org", "/r/"):
        assert secret not in logged


def test_the_invitation_says_who_asks_how_long_it_takes_and_how_answers_are_used(
    manager_client, members, open_wave, inbox
):
    cluster = db.session.scalars(select(Organisation)).first().clusters[0]
    cluster.contact_email = "survey@alpha.example"
    db.session.commit()
    send_as_manager(manager_client, open_wave, "invitation")
    body = inbox.to("able@example.org")[0].get_content()
    assert f"takes about {open_wave.questionnaire.parsed.minutes} minutes" in body and "15 minutes" not in body
    assert "Questions about the survey: survey@alpha.example" in body
    assert "How your answers are used: http://survey.test/privacy" in body


def test_sending_shows_what_goes_to_whom_before_anything_is_sent(manager_client, members, open_wave, inbox):
    page = f"/manage/alpha/waves/{open_wave.slug}"
    html = manager_client.get(page).get_data(as_text=True)
    preview = manager_client.post(f"{page}/send", data={"kind": "invitation", "csrf_token": csrf_token(html)})
    text = unescape(preview.get_data(as_text=True))
    assert preview.status_code == 200 and inbox.messages == []
    assert "This goes to 2 members, at 3 addresses:" in text and "Send 3 e-mails" in text
    assert "Invitation: Survey 2021" in text and "(the member's own link)" in text
    assert db.session.scalar(select(func.count()).select_from(Mailing)) == 0
