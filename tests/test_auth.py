"""Logging in and out, sessions, cookies, password change, rate limits and personal API tokens."""

from __future__ import annotations

import os
import re
import statistics
import time

import pytest
from sqlalchemy import func, select

from survey import create_app
from survey.access import allow
from survey.extensions import db
from survey.models import ApiToken, LoginSession, Role
from survey.operations.accounts import activate_user, deactivate_user
from tests.accounts import PASSWORD, log_in
from tests.conftest import BrowserLikeClient, csrf_token

REDIS_URL = os.environ.get("TEST_REDIS_URL")


def _sessions() -> int:
    return db.session.scalar(select(func.count()).select_from(LoginSession))


def _without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", html)


def _post(client, url: str, data: dict | None = None, page: str | None = None):
    """POST a form with the CSRF token taken from `page` (default: the same URL)."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(html)})


def test_login_lands_on_the_role_home_page(client, manager_a):
    response = log_in(client, "Manager-A@Example.org ")  # typed with capitals and a stray space
    assert response.status_code == 303
    assert response.headers["Location"] == "/manage/"
    assert "manager-a@example.org" in client.get("/account").get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite_lax(client, policymaker):
    response = log_in(client, policymaker.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development and tests run on plain http


def test_session_cookie_is_secure_in_production(monkeypatch, database_url, backend):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    app.test_client_class = BrowserLikeClient
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        if backend == "sqlite":
            db.create_all()
        from survey.operations.accounts import create_user

        create_user("admin@example.org", PASSWORD, Role.ADMIN)
        db.session.commit()
        client = app.test_client()
        # Over https, Flask-WTF also checks that the form came from this site.
        response = log_in(
            client,
            "admin@example.org",
            base_url="https://survey.example.org",
            headers={"Referer": "https://survey.example.org/login"},
        )
        assert response.status_code == 303
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        db.session.remove()
        db.engine.dispose()


def test_production_warns_when_limits_are_counted_per_process(monkeypatch, caplog):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("RATELIMIT_STORAGE_URL", raising=False)
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert "set RATELIMIT_STORAGE_URL to a Redis URL" in caplog.text
    caplog.clear()
    monkeypatch.setenv("RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert "RATELIMIT_STORAGE_URL" not in caplog.text


def test_unknown_email_and_wrong_password_look_the_same(client, manager_a):
    unknown = log_in(client, "nobody@example.org")
    wrong = log_in(client, manager_a.email, "not the password at all")
    assert unknown.status_code == wrong.status_code == 422
    # The pages differ only in the address typed, which the form gives back.
    unknown_page = _without_csrf(unknown.get_data(as_text=True)).replace("nobody@example.org", "ADDRESS")
    wrong_page = _without_csrf(wrong.get_data(as_text=True)).replace(manager_a.email, "ADDRESS")
    assert unknown_page == wrong_page
    assert "The e-mail address or the password is not right." in wrong.get_data(as_text=True)
    assert _sessions() == 0


def test_unknown_email_takes_as_long_as_a_wrong_password(app, client, make_user):
    # With the production argon2 cost, skipping the hash for an unknown address would be many times faster.
    app.config["ARGON2_PROFILE"] = "RFC_9106_LOW_MEMORY"
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"
    user = make_user("manager@example.org", Role.POLICYMAKER)

    def timed(email: str) -> float:
        html = client.get("/login").get_data(as_text=True)
        data = {"email": email, "password": "wrong password here", "csrf_token": csrf_token(html)}
        start = time.perf_counter()
        assert client.post("/login", data=data).status_code == 422
        return time.perf_counter() - start

    timed("warm-up@example.org")
    unknown, wrong = [], []
    for _ in range(7):  # interleaved, so that a busy machine slows both alike
        unknown.append(timed("nobody@example.org"))
        wrong.append(timed(user.email))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    # Without the dummy hash the ratio is below 1/20; noise on a busy machine stays well within a factor of 3.
    assert 1 / 3 < ratio < 3, (unknown, wrong)


def test_garbage_in_the_form_is_an_unknown_user(client, manager_a):
    assert log_in(client, "nul\x00@example.org").status_code == 422
    assert log_in(client, "x" * 300 + "@example.org").status_code == 422
    assert log_in(client, manager_a.email, "p" * 5000).status_code == 422


def test_empty_form_gets_messages(client):
    html = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter your e-mail address." in page and 'href="#email"' in page


def test_login_without_csrf_token_is_refused(client, manager_a):
    response = client.post("/login", data={"email": manager_a.email, "password": PASSWORD})
    assert response.status_code == 400
    assert _sessions() == 0


def test_logout_ends_the_session_even_for_a_replayed_cookie(client, policymaker):
    log_in(client, policymaker.email)
    assert client.get("/account").status_code == 200
    kept = client.get_cookie("session").value
    assert _sessions() == 1

    response = _post(client, "/logout", page="/account")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert _sessions() == 0
    assert client.get("/account").status_code == 302

    # Someone who copied the cookie before the log-out replays it from another browser.
    thief = client.application.test_client()
    thief.set_cookie("session", kept)
    replay = thief.get("/account")
    assert replay.status_code == 302 and replay.headers["Location"].startswith("/login")


def test_login_starts_a_fresh_session(app, client, policymaker):
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"
    log_in(client, policymaker.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] not in {str(policymaker.id), policymaker.email}  # a random session token


def test_next_goes_back_to_the_page_asked_for_but_never_off_site(client, manager_a):
    response = client.get("/manage/alpha/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/manage/alpha/"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    data = {"email": manager_a.email, "password": PASSWORD, "csrf_token": csrf_token(html)}
    assert client.post("/login?next=/manage/alpha/", data=data).headers["Location"] == "/manage/alpha/"

    other = client.application.test_client()
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        html = other.get("/login").get_data(as_text=True)
        data["csrf_token"] = csrf_token(html)
        assert other.post(f"/login?next={target}", data=data).headers["Location"] == "/manage/"
        _post(other, "/logout", page="/account")


def test_password_change_ends_other_sessions(client_for, policymaker):
    browser = client_for(policymaker)
    other_device = client_for(policymaker)
    wrong = _post(
        browser,
        "/account/password",
        {"current": "wrong", "new": "a new long password", "confirm": "a new long password"},
    )
    assert wrong.status_code == 422 and "This is not your current password." in wrong.get_data(as_text=True)
    short = _post(browser, "/account/password", {"current": PASSWORD, "new": "short", "confirm": "short"})
    assert short.status_code == 422 and "at least 12 characters" in short.get_data(as_text=True)

    done = _post(
        browser,
        "/account/password",
        {"current": PASSWORD, "new": "a new long password", "confirm": "a new long password"},
    )
    assert done.status_code == 303
    assert browser.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302
    fresh = browser.application.test_client()
    assert log_in(fresh, policymaker.email).status_code == 422
    assert log_in(fresh, policymaker.email, "a new long password").status_code == 303


def test_deactivated_user_is_logged_out_and_cannot_log_in(client_for, admin, policymaker):
    browser = client_for(policymaker)
    deactivate_user(policymaker, acting=admin)
    db.session.commit()
    assert browser.get("/account").status_code == 302
    response = log_in(browser.application.test_client(), policymaker.email)
    assert response.status_code == 422
    assert "The e-mail address or the password is not right." in response.get_data(as_text=True)


def test_failed_logins_are_limited_per_address(app, client, manager_a):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert log_in(client, manager_a.email, "wrong password").status_code == 422
    limited = log_in(client, manager_a.email)  # even the right password, now
    assert limited.status_code == 429
    assert "Too many failed log-ins" in limited.get_data(as_text=True)
    other_address = client.application.test_client()
    assert log_in(other_address, manager_a.email, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 303


@pytest.fixture
def redis_limited_app(database_url, backend):
    """An app counting log-ins in the real Redis, under this test run's key prefix (see conftest)."""
    if not REDIS_URL:
        pytest.skip("set TEST_REDIS_URL to run the tests against Redis")
    import redis

    prefix = os.environ["RATELIMIT_KEY_PREFIX"]
    connection = redis.Redis.from_url(REDIS_URL)

    def forget_counts() -> None:
        keys = list(connection.scan_iter(f"*/{prefix}/*"))
        if keys:
            connection.delete(*keys)

    forget_counts()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "LOGIN_RATE_LIMIT": "4 per minute",
        }
    )
    app.test_client_class = BrowserLikeClient
    with app.app_context():
        if backend == "sqlite":
            db.create_all()
        yield app, connection
        db.session.remove()
        db.engine.dispose()
    forget_counts()
    connection.close()


def test_login_limit_in_redis_counts_failures_only(redis_limited_app):
    from survey.operations.accounts import create_user

    app, connection = redis_limited_app
    create_user("manager@example.org", PASSWORD, Role.POLICYMAKER)
    db.session.commit()
    for _ in range(3):  # successful log-ins do not count towards the limit
        assert log_in(app.test_client(), "manager@example.org").status_code == 303
    client = app.test_client()
    assert log_in(client, "nobody@example.org").status_code == 422
    assert log_in(client, "manager@example.org", "wrong").status_code == 422
    assert log_in(client, "nobody@example.org").status_code == 422
    assert log_in(client, "manager@example.org", "wrong").status_code == 422
    assert log_in(client, "nobody@example.org").status_code == 429
    assert log_in(client, "manager@example.org", "wrong").status_code == 429
    # The counts are in Redis, where every worker process sees them.
    assert list(connection.scan_iter(f"*/{app.config['RATELIMIT_KEY_PREFIX']}/*auth.login*"))


# Personal API tokens


@pytest.fixture
def whoami_app(app):
    """The app with a small API endpoint, standing in for the JSON API that uses these tokens."""

    @allow(*Role)
    def whoami():
        from flask_login import current_user

        return {"email": current_user.email}

    app.add_url_rule("/api/v1/test-whoami", "test_whoami", whoami)
    return app


def _create_token(client, name: str = "my script") -> str:
    response = _post(client, "/account/tokens", {"name": name}, page="/account")
    assert response.status_code == 200
    return re.search(r'id="token"[^>]*value="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_api_token_is_shown_once_and_works_as_a_bearer_token(whoami_app, client_for, policymaker):
    browser = client_for(policymaker)
    token = _create_token(browser)
    assert token.startswith("cts_") and len(token) > 40
    stored = db.session.scalars(select(ApiToken)).one()
    assert token not in (stored.token_hash, stored.name)  # only a hash is kept
    assert token not in browser.get("/account").get_data(as_text=True)
    assert "my script" in browser.get("/account").get_data(as_text=True)

    api = whoami_app.test_client()
    answer = api.get("/api/v1/test-whoami", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json == {"email": policymaker.email}
    assert answer.headers.get("Set-Cookie") is None  # a token request starts no session


def test_api_refuses_missing_wrong_and_revoked_tokens_with_401(whoami_app, client_for, policymaker):
    api = whoami_app.test_client()
    anonymous = api.get("/api/v1/test-whoami")
    assert anonymous.status_code == 401 and anonymous.is_json and "WWW-Authenticate" in anonymous.headers
    assert api.get("/api/v1/test-whoami", headers={"Authorization": "Bearer cts_made-up"}).status_code == 401

    browser = client_for(policymaker)
    token = _create_token(browser)
    token_id = db.session.scalars(select(ApiToken.id)).one()
    assert _post(browser, f"/account/tokens/{token_id}/revoke", page="/account").status_code == 303
    assert api.get("/api/v1/test-whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_ends_when_its_user_is_deactivated_and_stays_ended_on_reactivation(
    whoami_app, client_for, admin, policymaker
):
    token = _create_token(client_for(policymaker))
    deactivate_user(policymaker, acting=admin)
    db.session.commit()
    api = whoami_app.test_client()
    assert api.get("/api/v1/test-whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    activate_user(policymaker)
    db.session.commit()
    assert api.get("/api/v1/test-whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_tokens_end_when_an_admin_resets_the_password(whoami_app, client_for, admin_client, policymaker):
    token = _create_token(client_for(policymaker))
    reset = _post(admin_client, f"/admin/users/{policymaker.id}/password", page=f"/admin/users/{policymaker.id}")
    assert reset.status_code == 200, reset.status_code
    api = whoami_app.test_client()
    assert api.get("/api/v1/test-whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_api_token_does_not_open_the_pages(whoami_app, client_for, policymaker):
    token = _create_token(client_for(policymaker))
    page = whoami_app.test_client().get("/account", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 302


def test_nobody_revokes_someone_elses_token(client_for, policymaker, admin):
    _create_token(client_for(policymaker))
    token_id = db.session.scalars(select(ApiToken.id)).one()
    intruder = client_for(admin)
    assert _post(intruder, f"/account/tokens/{token_id}/revoke", page="/account").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1


def test_token_needs_a_name(client_for, policymaker):
    response = _post(client_for(policymaker), "/account/tokens", {"name": "  "}, page="/account")
    assert response.status_code == 422 and "Give the token a name." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_an_endpoint_that_declares_no_audience_is_refused_to_everyone(app, client_for, admin):
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert client_for(admin).get("/forgotten").status_code == 403
    assert app.test_client().get("/forgotten").status_code == 403


def _log_in_over_https(app, email: str, headers: dict[str, str]):
    """The log-in form over HTTPS, with its token, sent with these headers (and no Referer)."""
    client = app.test_client()
    html = client.get("/login", base_url="https://survey.test").get_data(as_text=True)
    return client.post(
        "/login",
        base_url="https://survey.test",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(html)},
        headers=headers,
    )


def test_over_https_the_log_in_form_works_without_a_referer(app, policymaker):
    """Browsers send no Referer under the pages' no-referrer policy; behind TLS that made every staff form 400."""
    response = _log_in_over_https(app, policymaker.email, {"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert response.headers["Location"] == "/reports/"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://other.survey.test"},
    ],
    ids=["foreign-origin", "cross-site", "same-site"],
)
def test_a_form_sent_from_another_site_is_refused_even_with_a_token(app, policymaker, headers):
    response = _log_in_over_https(app, policymaker.email, headers)
    assert response.status_code == 400
    assert "sent from another site" in response.get_data(as_text=True)
    assert _sessions() == 0
