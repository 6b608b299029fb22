"""Addresses that e-mail does not reach, as the cluster's manager sees them: refused by the mail server while
sending (the loopback SMTP server of tests/mailserver.py refuses on request), or bounced later and fed to
`flask mail bounce` as a delivery status notification (RFC 3464)."""

from __future__ import annotations

from html import unescape

from flask_babel import format_date

from survey import clock
from tests.mailserver import send_as_manager

DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.cluster.example>
To: survey@cluster.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered to one or more recipients.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.cluster.example

Final-Recipient: rfc822; Baker@Example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown in virtual mailbox table

Final-Recipient: rfc822; able@example.org
Action: delayed
Status: 4.4.1

--B
Content-Type: text/rfc822-headers

Subject: Invitation: Survey 2021

--B--
"""

OUT_OF_OFFICE = """\
From: Alba Able <able@example.org>
To: survey@cluster.example
Subject: Out of office

I am away until Monday.
"""


def _page(client, path: str) -> str:
    return unescape(client.get(path).get_data(as_text=True))


def test_a_refused_address_shows_on_the_wave_and_member_pages_until_mail_gets_through(
    manager_client, members, open_wave, inbox
):
    inbox.refuse = {"second@example.org"}
    assert send_as_manager(manager_client, open_wave, "invitation").status_code == 303
    today = format_date(clock.today(), "medium")
    wave_page = _page(manager_client, "/manage/alpha/waves/wave-2021")
    assert f"1 of 2 addresses refused on {today}: 550 5.1.1 No such mailbox" in wave_page
    assert wave_page.count("delivery-problem") == 1  # Baker's one address took the message

    able = members["Able"]
    member_page = _page(manager_client, f"/manage/alpha/members/{able.id}")
    row = member_page[member_page.index("second@example.org") :].split("</tr>")[0]
    assert f"Refused by the mail server on {today}: 550 5.1.1 No such mailbox" in row
    assert "None known" in member_page[member_page.index("able@example.org") :].split("</tr>")[0]

    inbox.refuse = set()  # the mailbox exists now: the next e-mail gets through, and the refusal is over
    assert send_as_manager(manager_client, open_wave, "reminder").status_code == 303
    assert inbox.to("second@example.org")
    assert "delivery-problem" not in _page(manager_client, "/manage/alpha/waves/wave-2021")


def test_a_member_whose_only_address_is_refused_says_so(manager_client, members, open_wave, inbox):
    inbox.refuse = {"baker@example.org"}
    send_as_manager(manager_client, open_wave, "invitation")
    today = format_date(clock.today(), "medium")
    wave_page = _page(manager_client, "/manage/alpha/waves/wave-2021")
    baker_row = wave_page[wave_page.index(">Baker<") :].split("</tr>")[0]
    assert f"Refused by the mail server on {today}: 550 5.1.1 No such mailbox" in baker_row
    assert "Not invited" in baker_row  # and no link was made for it


def test_a_bounce_fed_to_the_command_marks_the_address_as_bouncing(
    manager_client, runner, members, open_wave, inbox, tmp_path
):
    send_as_manager(manager_client, open_wave, "invitation")
    result = runner.invoke(args=["mail", "bounce"], input=DSN.encode())
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 contact addresses marked as bouncing.\n"

    today = format_date(clock.today(), "medium")
    baker = members["Baker"]
    member_page = _page(manager_client, f"/manage/alpha/members/{baker.id}")
    assert f"Bounced on {today}: 5.1.1 smtp; 550 5.1.1 User unknown in virtual mailbox table" in member_page
    assert "delete it and add the right one" in member_page
    wave_page = _page(manager_client, "/manage/alpha/waves/wave-2021")
    assert f"Bounced on {today}: 5.1.1" in wave_page[wave_page.index(">Baker<") :].split("</tr>")[0]
    assert "Bounced" not in wave_page[wave_page.index(">Able<") :].split("</tr>")[0]  # only delayed

    # A mailbox that does not exist is not written to again, until the manager changes the address.
    send_as_manager(manager_client, open_wave, "reminder")
    assert [m["Subject"] for m in inbox.to("baker@example.org")] == ["Invitation: Survey 2021"]
    assert inbox.to("able@example.org")[-1]["Subject"] == "Reminder: Survey 2021"
    assert "Bounced on" in _page(manager_client, f"/manage/alpha/members/{baker.id}")

    # An out-of-office reply from a file is no bounce: skipped, not an error (a mail server pipes everything).
    path = tmp_path / "away.eml"
    path.write_text(OUT_OF_OFFICE)
    skipped = runner.invoke(args=["mail", "bounce", str(path)])
    assert skipped.exit_code == 0
    assert "1 messages were not delivery status notifications" in skipped.stderr
    assert "Bounced" not in _page(manager_client, f"/manage/alpha/members/{members['Able'].id}")


def test_a_bouncing_address_deleted_and_added_again_is_clear(manager_client, runner, members, open_wave, inbox):
    from tests.conftest import csrf_token

    send_as_manager(manager_client, open_wave, "invitation")
    runner.invoke(args=["mail", "bounce"], input=DSN.encode())
    baker = members["Baker"]
    page = f"/manage/alpha/members/{baker.id}"
    html = manager_client.get(page).get_data(as_text=True)
    contact_id = baker.contacts[0].id
    manager_client.post(f"{page}/contacts/{contact_id}/delete", data={"csrf_token": csrf_token(html)})
    html = manager_client.get(page).get_data(as_text=True)
    manager_client.post(
        f"{page}/contacts", data={"email": "baker@example.org", "name": "Bo Baker", "csrf_token": csrf_token(html)}
    )
    assert "Bounced" not in _page(manager_client, page)
