"""Browser tests: the app behind a real HTTP server on 127.0.0.1, driven in Debian's headless Chromium by Playwright.

Fixtures for journeys:

- `live_server` (per module): the app served by a real server on a free port of 127.0.0.1, on a migrated SQLite
  database of its own with the demo survey loaded (`demo_responses` synthetic responses; override that fixture in
  a module to get more) and the demo accounts of survey/cli/demo.py, with their demo passwords. It exposes `url`,
  `database_url`, `app`, `app_context()` (to create users and data with the app's own models and operations) and
  `invite()` (a fresh invitation link to the open demo wave).
- `browser` (per session): headless Chromium from /usr/bin/chromium.
- `new_page(**context_options)`: a page in a browser context of its own (its own cookies), for a phone viewport or
  with JavaScript off; `page` is a desktop one. Every page fails the test on a console error, an uncaught script
  error, a server error (status 500 or more), or a request to any host but 127.0.0.1 (aborted). A page expected to
  answer 4xx (a form sent back with errors) needs `new_page(allow_console_errors=(r"status of 422",))`: Chromium
  reports such a status on the console.
- `check_accessibility(page)`: runs axe-core (WCAG 2.1 A and AA) on the page and fails with a readable list.
- `screenshot(page, "step")`: test-artifacts/screenshots/<test>/NN-step.png; the folders are printed at the end.
- `checkpoint(page, "step")`: all of the above for a page a user has just reached.
- `docs_screenshot(page, "name")`: a screenshot for the README, written to docs/screenshots/ with UPDATE_SCREENSHOTS=1.
- `browsing`: the object behind all of these (tests/browser/browsing.py), for what they do not cover.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from survey import MIGRATIONS_DIR, clock, create_app
from survey.extensions import db
from tests.browser.browsing import (
    ALLOWED_HOST,
    AXE_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    Browsing,
    LiveServer,
    QuietRequestHandler,
    screenshot_dirs,
)


def pytest_collection_modifyitems(config, items) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter) -> None:
    if screenshot_dirs:
        terminalreporter.write_sep("-", "browser screenshots")
        for folder in screenshot_dirs:
            count = len(list(folder.glob("*.png")))
            terminalreporter.write_line(f"{folder.relative_to(REPO)}/ ({count} screenshots)")


@pytest.fixture(scope="module")
def demo_responses() -> int:
    """Synthetic responses in the live server's demo survey; a module that needs reports with data overrides this."""
    return 0


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, demo_responses) -> Iterator[LiveServer]:
    from flask_migrate import upgrade

    from survey.cli.demo import DEMO_WAVE, ensure_demo_users, load_demo

    database_url = f"sqlite:///{tmp_path_factory.mktemp('live-server') / 'survey.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        load_demo(demo_responses, 1, clock.now())
        ensure_demo_users("testing")  # the demo accounts (manager, policymaker, admin) with their demo passwords
        db.session.commit()
        db.session.remove()

    server = make_server(ALLOWED_HOST, 0, app, threaded=True, request_handler=QuietRequestHandler)
    url = f"http://{ALLOWED_HOST}:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=url, database_url=database_url, demo_wave=DEMO_WAVE)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


# --- the browser -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs Debian's chromium package "
            "(never `playwright install`). Leave the browser tests out with -m 'not browser'."
        )
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS.relative_to(REPO)} is missing: `make test` installs it with `npm ci`.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browsing(browser, request) -> Iterator[Browsing]:
    browsing = Browsing(browser, request.node.name)
    try:
        yield browsing
        browsing.assert_no_problems()
    finally:
        browsing.close()


@pytest.fixture
def new_page(browsing) -> Callable:
    return browsing.new_page


@pytest.fixture
def page(browsing):
    return browsing.new_page()


@pytest.fixture
def check_accessibility(browsing) -> Callable:
    return browsing.check_accessibility


@pytest.fixture
def screenshot(browsing) -> Callable:
    return browsing.screenshot


@pytest.fixture
def docs_screenshot(browsing) -> Callable:
    return browsing.docs_screenshot


@pytest.fixture
def checkpoint(browsing) -> Callable:
    """For each page a user reaches: a screenshot, no browser problems so far, zero axe violations."""

    def check(page, step: str) -> None:
        browsing.screenshot(page, step)
        browsing.assert_no_problems(page)
        browsing.check_accessibility(page)

    return check
