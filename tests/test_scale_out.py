"""Two app servers, one PostgreSQL and one Redis: the same report results on both, even right after a submission
through one of them and the wave's close, and log-in limits counted across both (issue 7's scale-out set-up)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import sqlalchemy

from survey import MIGRATIONS_DIR, clock, create_app
from survey.extensions import db
from tests.conftest import complete_answers

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") and REDIS_URL),
    reason="needs TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL (Redis)",
)
ROOT = Path(__file__).resolve().parent.parent
POLICYMAKER = ("reader@example.org", "a password for the scale-out test")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, data: bytes | None = None, headers: dict | None = None, opener=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        response = (opener or urllib.request.build_opener()).open(request, timeout=30)
        return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def shared_setup(postgres_server_url):
    """A migrated PostgreSQL database with demo data, a policymaker, an admin's API token and an invitation link."""
    from flask_migrate import upgrade

    from survey.cli.demo import DEMO_ORGANISATION, DEMO_WAVE, load_demo
    from survey.models import Organisation, Role, User, Wave
    from survey.operations.accounts import create_api_token, create_user
    from survey.operations.setup import invite_organisation

    url = postgres_server_url()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        load_demo(400, 5, clock.now())
        create_user(POLICYMAKER[0], POLICYMAKER[1], Role.POLICYMAKER, [])
        reader = db.session.query(User).filter_by(email=POLICYMAKER[0]).one()
        _, api_token = create_api_token(reader, "scale-out", clock.now())
        wave = db.session.query(Wave).filter_by(slug=DEMO_WAVE).one()
        organisation = db.session.query(Organisation).filter_by(name=DEMO_ORGANISATION).one()
        _, invitation = invite_organisation(wave, organisation, clock.now())
        db.session.commit()
        questionnaire = wave.questionnaire.parsed
        db.session.remove()
        db.engine.dispose()
    return {
        "url": url,
        "api_token": api_token,
        "invitation": invitation,
        "wave": DEMO_WAVE,
        "questionnaire": questionnaire,
    }


@pytest.fixture(scope="module")
def two_servers(shared_setup):
    """Two separate server processes sharing the database, Redis and the secret key, as behind a load balancer."""
    environment = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": shared_setup["url"],
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "RATELIMIT_KEY_PREFIX": f"scale-out-{uuid.uuid4().hex[:8]}",
        "REPORT_CACHE_PREFIX": f"scale-out-{uuid.uuid4().hex[:8]}",
        "LOGIN_RATE_LIMIT": "3 per minute",
    }
    shared_setup["environment"] = environment  # for the command that closes the wave
    servers, processes = [], []
    for _ in range(2):
        port = _free_port()
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "survey", "run", "--host", "127.0.0.1", "--port", str(port)],
                cwd=ROOT,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        servers.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        for server in servers:
            while not _healthy(server):
                assert time.monotonic() < deadline, f"{server} did not start"
                time.sleep(0.2)
        yield servers
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)


def _healthy(server: str) -> bool:
    try:
        return _request(f"{server}/healthz")[0] == 200
    except (urllib.error.URLError, ConnectionError):  # not listening yet
        return False


def _adoption(server: str, token: str, wave: str) -> dict:
    status, body = _request(
        f"{server}/api/v1/surveys/{wave}/adoption?by=cluster", headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 200, body
    return json.loads(body)


def _submit(server: str, setup: dict, **overrides) -> int:
    questionnaire = setup["questionnaire"]
    answers = complete_answers(questionnaire, **overrides)
    body: dict = {"profile": {}, "adoption": {}, "challenges": {}, "indicators": {}, "comments": {}}
    for code, item in questionnaire.items.items():
        body[item.section][code] = int(answers[code]) if item.type == "integer" else answers[code]
    status, _ = _request(
        f"{server}/api/v1/surveys/{setup['wave']}/responses",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {setup['invitation']}", "Content-Type": "application/json"},
    )
    return status


def test_both_servers_show_the_same_results_after_a_submission_and_the_close(two_servers, shared_setup):
    first, second = two_servers
    token, wave = shared_setup["api_token"], shared_setup["wave"]
    url = f"/api/v1/surveys/{wave}/adoption?by=cluster"
    # Open: no results on either server (release control), and both have cached the wave as not published.
    assert [_request(server + url, headers={"Authorization": f"Bearer {token}"})[0] for server in two_servers] == [
        404,
        404,
    ]
    # The demo organisation belongs to basque-digital; it answers through the first server only.
    assert _submit(first, shared_setup, org_type="sme", size_class="small", ecosystem="digital") == 201
    closed = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "survey", "surveys", "close", wave],
        cwd=ROOT,
        env=shared_setup["environment"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert closed.returncode == 0, closed.stderr
    after_first, after_second = _adoption(first, token, wave), _adoption(second, token, wave)
    assert after_first == after_second
    basque = {row["n"] for row in after_second["rows"] if row["cluster"] == "basque-digital"}
    assert basque == {_responses_in(shared_setup["url"], wave, "basque-digital")}, "the new response is counted"


def _responses_in(url: str, wave: str, cluster: str) -> int:
    """Responses of the wave counted in the cluster, straight from the database."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sqlalchemy.text(
                    "SELECT count(*) FROM response_cluster rc JOIN response r ON r.id = rc.response_id"
                    " JOIN wave w ON w.id = r.wave_id JOIN cluster c ON c.id = rc.cluster_id"
                    " WHERE w.slug = :wave AND c.slug = :cluster"
                ),
                {"wave": wave, "cluster": cluster},
            ).scalar_one()
    finally:
        engine.dispose()


def _login_attempt(server: str, password: str) -> int:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    status, page = _request(f"{server}/login", opener=opener)
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1).decode()
    data = urllib.parse.urlencode({"email": POLICYMAKER[0], "password": password, "csrf_token": token}).encode()
    return _request(f"{server}/login", data=data, opener=opener)[0]


def test_failed_log_ins_are_counted_across_both_servers(two_servers):
    first, second = two_servers
    statuses = [_login_attempt(server, "wrong password") for server in (first, second, first)]
    assert statuses == [422, 422, 422]
    # Three failures in all, split over two servers: the limit of three per minute is reached on both.
    assert _login_attempt(second, POLICYMAKER[1]) == 429
    assert _login_attempt(first, POLICYMAKER[1]) == 429
