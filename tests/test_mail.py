"""Invitations and reminders by e-mail, sent to a real SMTP server on the loopback interface (aiosmtpd)."""

from __future__ import annotations

import os
import re
import socket
from email import message_from_bytes, policy
from html import unescape

import pytest
from sqlalchemy import func, select

from survey import clock
from survey.extensions import db
from survey.models import Invitation, Mailing, MailKind, Organisation
from survey.operations.setup import add_contact, invite_organisation
from tests.conftest import complete_answers, csrf_token


def _free_port() -> int:
    """A port in the range this project may use for servers of its own (5200-5299): a half of it per test worker,
    since two workers probing the same port at once could both find it free."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % 2
    for port in range(5200 + 50 * worker, 5250 + 50 * worker):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 5200-5299")


class Inbox:
    """An aiosmtpd handler that keeps what it receives, and refuses the addresses in `refuse`."""

    def __init__(self) -> None:
        self.messages = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]


@pytest.fixture
def inbox(app):
    from aiosmtpd.controller import Controller

    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_SECURITY="none",
        MAIL_FROM="Cluster survey <survey@cluster.example>",
    )
    yield handler
    controller.stop()


@pytest.fixture
def members(cluster_a, open_wave):
    """Members of cluster A: two with contact persons (one with two), one without."""
    created = {}
    for name in ("Able", "Baker", "Charlie"):
        organisation = Organisation(
            name=name, country="ES", org_type="sme", size_class="small", ecosystem="digital", clusters=[cluster_a]
        )
        db.session.add(organisation)
        created[name] = organisation
    db.session.flush()
    add_contact(created["Able"], "able@example.org", "Alba Able")
    add_contact(created["Able"], "second@example.org", "")
    add_contact(created["Baker"], "baker@example.org", "Bo Baker")
    db.session.commit()
    return created


def _send(client, wave, kind: str):
    """Send as a manager does: the wave page's button, then the preview's (the first post sends nothing)."""
    page = f"/manage/alpha/waves/{wave.slug}"
    html = client.get(page).get_data(as_text=True)
    preview = client.post(f"{page}/send", data={"kind": kind, "csrf_token": csrf_token(html)})
    if preview.status_code != 200 or "Check before sending" not in preview.get_data(as_text=True):
        return preview  # nobody to send to, or refused
    return client.post(f"{page}/send", data={"kind": kind, "confirmed": "1", "csrf_token": csrf_token(html)})


def _link(message) -> str:
    return re.search(r"http://survey\.test(/r/\S+)", message.get_content()).group(1)


def test_invitations_are_emailed_with_working_links(manager_client, members, open_wave, inbox):
    response = _send(manager_client, open_wave, "invitation")
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
    again = _send(manager_client, open_wave, "invitation")
    assert "Nobody to send to" in manager_client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(inbox.messages) == 3


def test_reminders_go_to_those_who_have_not_answered_with_the_same_link(manager_client, members, open_wave, inbox):
    _send(manager_client, open_wave, "invitation")
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

    assert _send(manager_client, open_wave, "reminder").status_code == 303
    assert [m["To"] for m in inbox.messages] == ["Bo Baker <baker@example.org>"]
    reminder = inbox.messages[0]
    assert reminder["Subject"] == "Reminder: Survey 2021"
    assert _link(reminder) == baker_link  # the first e-mail's link, which keeps working
    assert "started" in respondent.get(baker_link).get_data(as_text=True)  # with the answers saved through it


def test_a_refused_address_leaves_that_member_as_it_was(manager_client, members, open_wave, inbox):
    _, earlier = invite_organisation(open_wave, members["Baker"], clock.now())
    db.session.commit()
    inbox.refuse = {"baker@example.org"}
    response = _send(manager_client, open_wave, "invitation")
    page = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sent to 1 members." in page and "refused the messages to Baker" in page
    client = manager_client.application.test_client()
    assert client.get(f"/r/{earlier}").status_code == 200  # Baker keeps the link it had
    assert db.session.scalar(select(func.count()).select_from(Mailing)) == 1


def test_an_unreachable_mail_server_changes_nothing(app, manager_client, members, open_wave, inbox):
    app.config["MAIL_PORT"] = _free_port()  # nobody listens there
    response = _send(manager_client, open_wave, "invitation")
    assert response.status_code == 502
    assert "could not be reached" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_mail_leaves_no_address_or_link_in_the_logs(manager_client, members, open_wave, inbox, caplog):
    caplog.set_level("DEBUG")
    inbox.refuse = {"baker@example.org"}
    _send(manager_client, open_wave, "invitation")
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
    _send(manager_client, open_wave, "invitation")
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
