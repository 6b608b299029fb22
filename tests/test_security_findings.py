"""Findings of a security probe (issue 15), each answered with a clear 4xx instead of a 500 or a leak."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from survey import clock, create_app
from survey.extensions import db
from survey.models import Cluster, DownloadLog, Organisation, Response, Role
from survey.operations.accounts import create_user
from tests.accounts import PASSWORD, log_in
from tests.conftest import BrowserLikeClient, complete_answers, csrf_token
from tests.test_api_responses import _body
from tests.test_api_responses import _post as _api_post

SPOOFS = {
    "right-to-left override": "Acme\u202egnp.exe",
    "zero-width space": "Ac\u200bme",
    "line separator": "Acme\u2028Bcc: all@example.org",
    "isolate": "Acme\u2067x\u2069",
}


def _responses() -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


def test_a_lone_surrogate_in_a_text_answer_is_refused_with_422(client, invited):
    """Stored on SQLite it broke responses.csv mid-download and the questionnaire page; PostgreSQL gave a 500."""
    questionnaire = invited.wave.questionnaire.parsed
    body = _body(questionnaire)
    body["comments"]["comments"] = "half a character: \ud800"
    response = _api_post(client, invited, body)
    assert response.status_code == 422
    assert "comments.comments" in response.get_json()["errors"]
    assert _responses() == 0


def test_a_400_digit_number_is_refused_with_422_by_the_api_and_the_form(client, invited):
    questionnaire = invited.wave.questionnaire.parsed
    body = _body(questionnaire)
    body["indicators"]["employees_now"] = int("9" * 400)
    response = _api_post(client, invited, body)
    assert response.status_code == 422 and "indicators.employees_now" in response.get_json()["errors"]

    page = client.get(f"/r/{invited.token}").get_data(as_text=True)
    data = {**complete_answers(questionnaire, employees_now="9" * 400), "action": "submit"}
    form = client.post(f"/r/{invited.token}", data={**data, "csrf_token": csrf_token(page)})
    assert form.status_code == 422
    assert 'value="' + "9" * 400 + '"' in form.get_data(as_text=True)  # what was typed is kept
    assert _responses() == 0


def test_a_json_body_nested_100000_deep_is_a_400(client, invited):
    response = client.post(
        f"/api/v1/surveys/{invited.wave.slug}/responses",
        data="[" * 100_000 + "]" * 100_000,
        content_type="application/json",
        headers={"Authorization": f"Bearer {invited.token}"},
    )
    assert response.status_code == 400 and response.is_json


@pytest.mark.parametrize("target", ["/reports/\r\nSet-Cookie: x=1", "/manage/\n", "/account\x00"])
def test_a_next_address_with_line_breaks_goes_home_instead_of_a_500(client, policymaker, target):
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": policymaker.email, "password": PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/reports/"
    assert "Set-Cookie: x=1" not in str(response.headers)


def test_the_outage_page_never_writes_a_password_back(tmp_path):
    folder = tmp_path / "db"
    folder.mkdir()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'survey.sqlite3'}"})
    with app.app_context():
        db.create_all()
        create_user("staff@example.org", PASSWORD, Role.ADMIN, [])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    shutil.rmtree(folder)
    with app.app_context():
        db.engine.dispose()
    response = client.post(
        "/login", data={"email": "staff@example.org", "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 503
    assert PASSWORD not in response.get_data(as_text=True)


@pytest.mark.parametrize("name", SPOOFS.values(), ids=SPOOFS.keys())
def test_names_that_pass_for_others_are_refused_for_members_contacts_and_clusters(
    manager_client, admin_client, cluster_a, name
):
    def post(client, url, data):
        page = client.get(url).get_data(as_text=True)
        return client.post(url, data={**data, "csrf_token": csrf_token(page)})

    member = {"name": name, "country": "ES", "org_type": "sme", "size_class": "small"}
    assert post(manager_client, "/manage/alpha/members/new", member).status_code == 422
    contact = {**member, "name": "Helix Labs", "contact_name": name, "contact_email": "ana@helix.example"}
    assert post(manager_client, "/manage/alpha/members/new", contact).status_code == 422
    cluster = {"slug": "spoof", "name": name, "country": "ES", "ecosystem": "digital"}
    assert post(admin_client, "/admin/clusters/new", cluster).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0
    assert db.session.scalars(select(Cluster.slug)).all() == ["alpha"]


def test_names_in_other_scripts_and_with_accents_are_kept(manager_client, cluster_a):
    page = manager_client.get("/manage/alpha/members/new").get_data(as_text=True)
    name = "Łódź Zoë Ελληνικά Ørsted"
    data = {"name": name, "country": "PL", "org_type": "sme", "size_class": "small", "csrf_token": csrf_token(page)}
    assert manager_client.post("/manage/alpha/members/new", data=data).status_code == 303
    assert db.session.scalars(select(Organisation.name)).one() == name


def test_the_invitation_links_download_is_in_the_download_audit_log(
    manager_client, manager_a, cluster_a, make_invited, open_wave
):
    make_invited([cluster_a], "Able")
    wave_page = f"/manage/alpha/waves/{open_wave.slug}"
    page = manager_client.get(wave_page).get_data(as_text=True)
    response = manager_client.post(f"{wave_page}/links", data={"members": "all", "csrf_token": csrf_token(page)})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    log = db.session.scalars(select(DownloadLog)).one()
    assert (log.user_id, log.what, log.survey) == (manager_a.id, "invitation-links.csv", open_wave.slug)
    assert log.filters == {"cluster": ["alpha"], "members": ["all"]}
    assert log.downloaded_at <= clock.now()


def test_no_token_answer_or_address_in_any_log_line_of_a_run_with_a_database_error(app, client, invited, caplog):
    """A respondent saves, a submission fails inside the database (an error whose statement carries the answers),
    then goes through; staff log in, and an API call sends a bearer token. Every log line of every logger, the
    tracebacks included, is searched for the link's token, the contact's address and the typed answers."""
    from sqlalchemy import text

    caplog.set_level("DEBUG")
    questionnaire = invited.wave.questionnaire.parsed
    secret = "a remark only this organisation typed"
    create_user("staff@example.org", PASSWORD, Role.ADMIN, [])
    db.session.commit()
    page = client.get(f"/r/{invited.token}").get_data(as_text=True)
    answers = {**complete_answers(questionnaire, comments=secret), "csrf_token": csrf_token(page)}
    assert client.post(f"/r/{invited.token}", data={**answers, "action": "save"}).status_code in (200, 303)

    db.session.execute(
        text("CREATE TRIGGER refuse BEFORE INSERT ON response BEGIN SELECT RAISE(ABORT, 'refused'); END")
    )
    db.session.commit()
    failed = client.post(f"/r/{invited.token}", data={**answers, "action": "submit"})
    assert failed.status_code == 500
    db.session.execute(text("DROP TRIGGER refuse"))
    db.session.commit()
    assert client.post(f"/r/{invited.token}", data={**answers, "action": "submit"}).status_code == 303

    login = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": "staff@example.org", "password": "wrong", "csrf_token": csrf_token(login)})
    client.get("/api/v1/surveys", headers={"Authorization": "Bearer cts_not-a-real-token-but-secret"})

    logged = caplog.text
    assert "refused" in logged  # the failure itself is logged, with its traceback
    for leak in (invited.token, secret, "staff@example.org", "cts_not-a-real-token-but-secret"):
        assert leak not in logged, leak


def test_failed_log_ins_are_counted_per_account_from_any_address(app, manager_a, policymaker):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per hour"
    for number in range(3):
        elsewhere = {"environ_base": {"REMOTE_ADDR": f"192.0.2.{number + 1}"}}
        assert log_in(app.test_client(), manager_a.email, "wrong password", **elsewhere).status_code == 422
    fourth = log_in(app.test_client(), "  Manager-A@example.org", environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert fourth.status_code == 429
    assert "Too many failed log-ins for this account" in fourth.get_data(as_text=True)
    # Another account, from the same addresses, is not affected.
    other = log_in(app.test_client(), policymaker.email, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert other.status_code == 303


def test_behind_a_trusted_proxy_each_client_address_is_counted_not_the_proxys(database_url):
    """Ten wrong passwords a minute from anyone used to lock every member of staff out behind the proxy."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "TRUSTED_PROXIES": 1, "LOGIN_RATE_LIMIT": "3 per minute"}
    )
    app.test_client_class = BrowserLikeClient
    with app.app_context():
        db.create_all()
        create_user("staff@example.org", PASSWORD, Role.ADMIN, [])
        db.session.commit()
        attacker = {"headers": {"X-Forwarded-For": "203.0.113.66"}}
        for _ in range(3):
            assert log_in(app.test_client(), "staff@example.org", "guess", **attacker).status_code == 422
        assert log_in(app.test_client(), "staff@example.org", **attacker).status_code == 429
        colleague = {"headers": {"X-Forwarded-For": "198.51.100.20"}}
        assert log_in(app.test_client(), "staff@example.org", **colleague).status_code == 303
        db.session.remove()


def test_saves_and_submissions_are_limited_per_link(app, client, invited):
    app.config["RESPONDENT_RATE_LIMIT"] = "2 per minute"
    page = client.get(f"/r/{invited.token}").get_data(as_text=True)
    data = {**complete_answers(invited.wave.questionnaire.parsed), "action": "save", "csrf_token": csrf_token(page)}
    statuses = [client.post(f"/r/{invited.token}", data=data).status_code for _ in range(3)]
    assert statuses[:2] == [303, 303] and statuses[2] == 429


def test_guessing_invitation_links_is_limited_per_address(app, client, invited):
    app.config["LINK_GUESS_RATE_LIMIT"] = "3 per minute"
    assert [client.get(f"/r/guess-{n:028d}").status_code for n in range(4)] == [404, 404, 404, 429]
    # Opening the real link does not count as a guess, from an address that has not guessed.
    other = app.test_client()
    for _ in range(5):
        assert other.get(f"/r/{invited.token}", environ_base={"REMOTE_ADDR": "192.0.2.50"}).status_code == 200


def test_api_reads_are_limited_per_user(app, policymaker, open_wave):
    from survey.operations.accounts import create_api_token

    app.config["API_READ_RATE_LIMIT"] = "3 per minute"
    _, token = create_api_token(policymaker, "script", clock.now())
    db.session.commit()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    statuses = [api.get("/api/v1/surveys", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.get("/api/v1/surveys", headers=headers)
    assert limited.is_json and limited.get_json()["status"] == 429


def test_every_test_docs_security_md_cites_exists():
    """docs/security.md maps each requirement and finding to its test: a renamed or removed test must not leave
    the table pointing at nothing."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent
    table = (root.parent / "docs" / "security.md").read_text()
    cited = re.findall(r"`([\w/]+)::(\w+)`", table)
    assert len(cited) > 30
    missing = [
        f"{module}::{name}"
        for module, name in cited
        if not (root / f"{module}.py").exists() or f"def {name}(" not in (root / f"{module}.py").read_text()
    ]
    assert not missing, missing
