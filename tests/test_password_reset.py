"""Accounts (issue 16): a password an admin made must be changed at the next log-in; with mail set up, a user
resets a forgotten password through an e-mailed link that works once, for an hour."""

from __future__ import annotations

import re
import time
from html import unescape

from itsdangerous.timed import TimestampSigner

from survey.extensions import db
from tests.accounts import log_in
from tests.conftest import csrf_token
from tests.mailserver import inbox  # noqa: F401 - the SMTP server on loopback


def _new_user(client, app) -> tuple[str, str]:
    page = client.get("/admin/users/new").get_data(as_text=True)
    data = {"email": "new.manager@example.org", "role": "policymaker", "csrf_token": csrf_token(page)}
    shown = client.post("/admin/users/new", data=data).get_data(as_text=True)
    return "new.manager@example.org", re.search(r'id="password"[^>]*value="([^"]+)"', shown).group(1)


def test_a_password_made_by_an_admin_is_changed_at_the_first_log_in(app, admin_client):
    email, password = _new_user(admin_client, app)
    user = app.test_client()
    log_in(user, email, password)
    reports = user.get("/reports/")
    assert reports.status_code == 302 and reports.headers["Location"].endswith("/account/password")
    page = unescape(user.get("/account/password").get_data(as_text=True))
    assert "choose a password of your own" in page
    new = "a password of my very own choosing"
    data = {"current": password, "new": new, "confirm": new, "csrf_token": csrf_token(page)}
    assert user.post("/account/password", data=data).status_code == 303
    assert user.get("/reports/").status_code == 200


def test_a_forgotten_password_is_reset_through_a_link_that_works_once(app, admin_client, inbox):  # noqa: F811
    email, _password = _new_user(admin_client, app)
    client = app.test_client()
    page = client.get("/login/forgotten").get_data(as_text=True)
    for address in (email, "nobody@example.org"):  # the same answer whether an account has the address or not
        answer = client.post("/login/forgotten", data={"email": address, "csrf_token": csrf_token(page)})
        assert answer.status_code == 200 and "If an account has this address" in unescape(answer.get_data(as_text=True))
    assert [message["To"] for message in inbox.messages] == [email]
    link = re.search(r"http://survey\.test(/login/reset/\S+)", inbox.messages[0].get_content()).group(1)

    form = client.get(link)
    assert form.status_code == 200
    new = "chosen again after forgetting"
    data = {"new": new, "confirm": new, "csrf_token": csrf_token(form.get_data(as_text=True))}
    assert client.post(link, data=data).status_code == 303
    log_in(client, email, new)
    assert client.get("/reports/").status_code == 200  # and no change asked for: the user chose it
    assert client.application.test_client().get(link).status_code == 410  # used: the password hash changed


def test_a_reset_link_stops_working_after_an_hour(app, admin_client, inbox, monkeypatch):  # noqa: F811
    email, _password = _new_user(admin_client, app)
    client = app.test_client()
    page = client.get("/login/forgotten").get_data(as_text=True)
    client.post("/login/forgotten", data={"email": email, "csrf_token": csrf_token(page)})
    link = re.search(r"http://survey\.test(/login/reset/\S+)", inbox.messages[0].get_content()).group(1)
    assert client.get(link).status_code == 200
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda signer: int(time.time()) + 61 * 60)
    assert client.get(link).status_code == 410


def test_without_mail_the_page_says_whom_to_ask(client):
    page = unescape(client.get("/login/forgotten").get_data(as_text=True))
    assert "ask its administrator to set a new password" in page
    db.session.commit()
