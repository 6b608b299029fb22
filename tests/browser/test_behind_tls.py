"""Production as deployed (docs/deploy.md): gunicorn with the production settings behind a TLS-terminating proxy.
A real browser logs in over HTTPS, sends a staff form and logs out, with CSRF protection on and invitation links
still sent with `Referrer-Policy: no-referrer`.

Before the fix every staff form, log-in included, answered 400 "The referrer header is missing.": browsers send
no Referer under that policy, and Flask-WTF's strict referrer check runs on every HTTPS request.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from survey import MIGRATIONS_DIR, clock, create_app
from survey.extensions import db
from survey.models import Role
from survey.operations.accounts import create_user
from tests.browser.tls_proxy import TlsProxy, self_signed_certificate

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ("root@example.org", "a long password for the TLS test")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError):
        return False


@pytest.fixture(scope="module")
def behind_tls(tmp_path_factory):
    """gunicorn (production settings, one worker) on a free port, and the TLS proxy in front of it."""
    from flask_migrate import upgrade

    from survey.cli.demo import load_demo

    folder = tmp_path_factory.mktemp("behind-tls")
    database_url = f"sqlite:///{folder / 'survey.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        load_demo(0, 1, clock.now())
        create_user(ADMIN[0], ADMIN[1], Role.ADMIN)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()

    port = _free_port()
    environment = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "DATABASE_URL": database_url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "RATELIMIT_KEY_PREFIX": f"behind-tls-{uuid.uuid4().hex[:8]}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "survey:create_app()"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy = TlsProxy(("127.0.0.1", port), *self_signed_certificate(folder)).start()
    try:
        deadline = time.monotonic() + 60
        while not _healthy(f"http://127.0.0.1:{port}"):
            assert server.poll() is None, "gunicorn exited at start"
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield proxy.url
    finally:
        proxy.stop()
        server.terminate()
        server.wait(timeout=20)


def test_over_https_staff_log_in_send_a_form_and_log_out(behind_tls, new_page, checkpoint):
    page = new_page(ignore_https_errors=True)
    page.goto(f"{behind_tls}/login")
    assert page.evaluate("() => location.protocol") == "https:"
    page.get_by_label("E-mail address").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["session"]["secure"] and cookies["session"]["httpOnly"]
    checkpoint(page, "logged-in-over-https")

    page.goto(f"{behind_tls}/admin/clusters")
    page.get_by_role("link", name="Create a cluster").click()
    page.get_by_label("Short name for web addresses").fill("helix-photonics")
    page.get_by_label("Name", exact=True).fill("Helix Photonics Cluster")
    page.get_by_label("Country").select_option("DE")
    page.get_by_label("Industrial ecosystem").select_option(index=1)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Helix Photonics Cluster").first).to_be_visible()
    assert page.url.startswith(f"{behind_tls}/admin/clusters")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.goto(f"{behind_tls}/admin/")
    expect(page).to_have_url(f"{behind_tls}/login?next=/admin/")


def test_over_https_a_cross_site_form_is_refused(behind_tls, new_page):
    """A page elsewhere posting to the log-in form (Origin of another site) is turned away, token or not."""
    page = new_page(ignore_https_errors=True)
    status = page.request.post(
        f"{behind_tls}/login",
        form={"email": ADMIN[0], "password": ADMIN[1]},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        max_redirects=0,
    ).status
    assert status == 400
