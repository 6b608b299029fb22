"""A cluster's own subject and text for a wave's e-mails: edited on a page, with placeholders, previewed, and sent
to the loopback SMTP server (tests/mailserver.py) with the placeholders filled in."""

from __future__ import annotations

import re
from html import unescape

from flask_babel import format_date
from sqlalchemy import func, select

from survey.extensions import db
from survey.mail_texts import fill, unknown_placeholders
from survey.models import MailText, Organisation
from survey.operations.setup import add_contact
from tests.conftest import csrf_token
from tests.mailserver import send_as_manager

PAGE = "/manage/alpha/waves/wave-2021/mail/invitation"


def _save(client, subject: str, body: str, page: str = PAGE):
    html = client.get(page).get_data(as_text=True)
    return client.post(page, data={"subject": subject, "body": body, "csrf_token": csrf_token(html)})


def _preview(client, kind: str = "invitation") -> str:
    wave_page = "/manage/alpha/waves/wave-2021"
    html = client.get(wave_page).get_data(as_text=True)
    response = client.post(f"{wave_page}/send", data={"kind": kind, "csrf_token": csrf_token(html)})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _link(message) -> str:
    return re.search(r"http://survey\.test(/r/\S+)", message.get_content()).group(1)


def test_the_wave_page_leads_to_the_default_text_with_its_placeholders(manager_client, members, open_wave, inbox):
    wave_page = manager_client.get("/manage/alpha/waves/wave-2021").get_data(as_text=True)
    assert PAGE in wave_page and "/manage/alpha/waves/wave-2021/mail/reminder" in wave_page

    page = unescape(manager_client.get(PAGE).get_data(as_text=True))
    assert "This is the default text." in page
    assert 'value="Invitation: {wave}"' in page  # the subject field, ready to change
    assert "{greeting}\n\n{cluster} invites {organisation} to take part" in page
    for name in ("{organisation}", "{contact}", "{link}", "{closes_on}", "{cluster}", "{wave}", "{manager_contact}"):
        assert f"<code>{name}</code>" in page
    # The saved text as the first member with a contact person gets it.
    assert "Alpha Cluster invites Able to take part" in page and "Hello Alba Able," in page


def test_an_edited_text_reaches_the_members_with_its_placeholders_filled_in(
    manager_client, members, open_wave, cluster_a, inbox
):
    cluster_a.contact_email = "survey@alpha.example"
    db.session.commit()
    body = (
        "Dear {contact},\n\n{organisation} is invited by {cluster} to “{wave}” (about {minutes} minutes), "
        "until {closes_on}:\n{link}\n\nQuestions: {manager_contact}\n"
    )
    saved = _save(manager_client, "{cluster} asks {organisation}: {wave}", body)
    assert saved.status_code == 303
    page = unescape(manager_client.get(saved.headers["Location"]).get_data(as_text=True))
    assert "The text is saved" in page and "saved on" in page and "by manager-a@example.org" in page

    preview = unescape(_preview(manager_client))
    assert "Alpha Cluster asks Able: Survey 2021" in preview and "Dear Alba Able," in preview
    assert "(the member's own link)" in preview

    assert send_as_manager(manager_client, open_wave, "invitation").status_code == 303
    message = inbox.to("able@example.org")[0]
    assert message["Subject"] == "Alpha Cluster asks Able: Survey 2021"
    text = message.get_content()
    closes_on = format_date(open_wave.closes_on, "long")
    minutes = open_wave.questionnaire.parsed.minutes
    assert text.startswith(f"Dear Alba Able,\n\nAble is invited by Alpha Cluster to “Survey 2021” (about {minutes} ")
    assert f"until {closes_on}:\nhttp://survey.test/r/" in text and "Questions: survey@alpha.example" in text
    assert manager_client.application.test_client().get(_link(message)).status_code == 200
    assert inbox.to("baker@example.org")[0]["Subject"] == "Alpha Cluster asks Baker: Survey 2021"


def test_an_unknown_placeholder_is_refused_and_what_was_typed_comes_back(manager_client, members, open_wave):
    body = "Hello {organisation.__class__} and {nom},\n\nAnswer here: {link}\n"
    response = _save(manager_client, "About {wave}", body)
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "{organisation.__class__}, {nom} are not placeholders." in page
    assert body in page  # the text as typed, to correct
    assert 'value="About {wave}"' in page
    assert db.session.scalar(select(func.count()).select_from(MailText)) == 0

    no_link = _save(manager_client, "About {wave}", "Please answer soon.")
    assert no_link.status_code == 422
    assert "The text must contain {link}" in unescape(no_link.get_data(as_text=True))

    link_in_subject = _save(manager_client, "Your link {link}", "Answer: {link}")
    assert link_in_subject.status_code == 422
    assert "Put {link} in the text, not in the subject" in unescape(link_in_subject.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(MailText)) == 0


def test_reset_brings_the_default_text_back(manager_client, members, open_wave, inbox):
    _save(manager_client, "Our survey {wave}", "Please: {link}")
    assert "Our survey Survey 2021" in _preview(manager_client)

    html = manager_client.get(PAGE).get_data(as_text=True)
    assert "Reset to the default text" in html
    reset = manager_client.post(f"{PAGE}/reset", data={"csrf_token": csrf_token(html)})
    assert reset.status_code == 303
    page = manager_client.get(reset.headers["Location"]).get_data(as_text=True)
    assert "The default text is back" in page and "This is the default text." in page
    assert "Invitation: Survey 2021" in _preview(manager_client)


def test_the_reminder_has_its_own_text(manager_client, members, open_wave, inbox):
    _save(
        manager_client,
        "Last call: {wave}",
        "{greeting} please answer: {link}",
        page=PAGE.replace("invitation", "reminder"),
    )
    assert send_as_manager(manager_client, open_wave, "invitation").status_code == 303
    assert inbox.to("baker@example.org")[0]["Subject"] == "Invitation: Survey 2021"  # the invitation is untouched
    inbox.messages.clear()
    assert send_as_manager(manager_client, open_wave, "reminder").status_code == 303
    reminder = inbox.to("baker@example.org")[0]
    assert reminder["Subject"] == "Last call: Survey 2021"
    assert reminder.get_content().startswith("Hello Bo Baker, please answer: http://survey.test/r/")


def test_typed_markup_is_shown_as_text_on_the_pages_and_sent_as_typed(manager_client, cluster_a, open_wave, inbox):
    organisation = Organisation(name="<b>Bold</b> & Co", country="ES", clusters=[cluster_a])
    db.session.add(organisation)
    db.session.flush()
    add_contact(organisation, "bold@example.org", "<i>Ida</i>")
    db.session.commit()
    _save(manager_client, "For {organisation}", "<script>alert(1)</script>\n{greeting}\n{link}")

    for html in (manager_client.get(PAGE).get_data(as_text=True), _preview(manager_client)):
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>Bold</b>" not in html and "<i>Ida</i>" not in html

    send_as_manager(manager_client, open_wave, "invitation")
    message = inbox.to("bold@example.org")[0]
    assert message["Subject"] == "For <b>Bold</b> & Co"  # plain text: nothing to escape
    assert message.get_content().startswith("<script>alert(1)</script>\nHello <i>Ida</i>,\nhttp://survey.test/r/")


def test_placeholders_are_looked_up_never_evaluated():
    assert unknown_placeholders("{organisation.__class__} {0} {} {link} {wave!r} { spaced }") == [
        "organisation.__class__",
        "0",
        "",
        "wave!r",
    ]
    values = {"organisation": "{link}", "link": "http://survey.test/r/x"}
    # One pass: an organisation named "{link}" keeps its name, and an unknown placeholder stays as it is.
    assert fill("{organisation}: {link} {organisation.__class__}", values) == (
        "{link}: http://survey.test/r/x {organisation.__class__}"
    )
