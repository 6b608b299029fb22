"""What the browser tests are built from: the app behind a real server, and pages that watch for problems.

The fixtures in conftest.py hand these out; journeys import the constants (PHONE, DESKTOP) from here.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler

from survey import clock
from survey.extensions import db
from survey.models import Cluster, Organisation, Wave
from survey.operations.setup import invite_organisation

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling Google's hosts, which this network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
ALLOWED_HOST = "127.0.0.1"

screenshot_dirs: list[Path] = []


class QuietRequestHandler(WSGIRequestHandler):
    """One log line per request would bury a failing test's output; errors are still logged."""

    def log_request(self, *args, **kwargs) -> None:
        pass


@dataclass(frozen=True)
class Link:
    """An invitation link issued to a new organisation."""

    url: str
    token: str
    organisation_id: int
    invitation_id: int
    wave_id: int


@dataclass
class LiveServer:
    app: object
    #: Base URL without a trailing slash, e.g. http://127.0.0.1:43125
    url: str
    database_url: str
    demo_wave: str
    #: The closed demo wave: its results are what managers and policymakers see (release control).
    report_wave: str = "demo-2019"
    _names: Iterator[int] = field(default_factory=lambda: iter(range(1, 1_000_000)))

    def link(self, path: str) -> str:
        return self.url + path

    @contextmanager
    def app_context(self):
        """The app's context in the test's thread, for setting up and checking data; yields the session."""
        with self.app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()

    def invite(
        self,
        cluster_slug: str = "basque-digital",
        *,
        name: str | None = None,
        org_type: str = "sme",
        size_class: str = "small",
    ) -> Link:
        """A new organisation in the cluster, invited to the open demo wave."""
        with self.app_context() as session:
            cluster = session.scalars(select(Cluster).filter_by(slug=cluster_slug)).one()
            wave = session.scalars(select(Wave).filter_by(slug=self.demo_wave)).one()
            organisation = Organisation(
                name=name or f"Browser Test Organisation {next(self._names)}",
                country=cluster.country,
                org_type=org_type,
                size_class=size_class,
                ecosystem=cluster.ecosystem,
                clusters=[cluster],
            )
            session.add(organisation)
            invitation, token = invite_organisation(wave, organisation, clock.now())
            session.commit()
            return Link(self.link(f"/r/{token}"), token, organisation.id, invitation.id, wave.id)


@dataclass
class _PageInfo:
    options: dict
    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)


class Browsing:
    """Pages of one test, with their guards, screenshots and accessibility checks."""

    def __init__(self, browser, node_name: str) -> None:
        self.browser = browser
        self.contexts: list = []
        self.pages: dict[object, _PageInfo] = {}
        self.folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", node_name).strip("-")
        self.steps = 0
        self._axe_source: str | None = None
        self._audit_pages: dict[str, object] = {}
        self._copies: dict[object, str] = {}
        self.audit_infos: list[_PageInfo] = []

    # Pages and their guards.

    def new_context(self, **options):
        context = self.browser.new_context(**options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context

    def new_page(self, *, allow_console_errors: tuple[str, ...] = (), **options):
        """A page in a new browser context (`options` go to `browser.new_context`: viewport,
        java_script_enabled, …). `allow_console_errors` holds patterns of console errors a test expects."""
        options = {**DESKTOP, **options}
        context = self.new_context(**options)
        info = _PageInfo(options, allowed=[re.compile(p) for p in allow_console_errors])
        context.route("**/*", lambda route: self._only_local(route, info))
        page = context.new_page()
        self.pages[page] = info
        page.on("console", lambda message: self._console(message, info))
        page.on("pageerror", lambda error: info.problems.append(f"uncaught error in the page: {error}"))
        page.on("response", lambda response: self._server_error(response, info))
        return page

    @staticmethod
    def _only_local(route, info: _PageInfo) -> None:
        url = route.request.url
        if urlsplit(url).hostname == ALLOWED_HOST:
            route.continue_()
        else:
            info.problems.append(f"request to a host other than {ALLOWED_HOST} (aborted): {url}")
            route.abort("blockedbyclient")

    @staticmethod
    def _console(message, info: _PageInfo) -> None:
        if message.type != "error" or any(p.search(message.text) for p in info.allowed):
            return
        where = message.location.get("url", "") if message.location else ""
        info.problems.append(f"console error: {message.text}" + (f" ({where})" if where else ""))

    @staticmethod
    def _server_error(response, info: _PageInfo) -> None:
        if response.status >= 500:
            info.problems.append(f"server error {response.status} for {response.request.method} {response.url}")

    def assert_no_problems(self, page=None) -> None:
        infos = [self.pages[page]] if page is not None else [*self.pages.values(), *self.audit_infos]
        problems = [problem for info in infos for problem in info.problems]
        assert not problems, "the browser reported:\n- " + "\n- ".join(problems)

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    # Screenshots.

    def screenshot(self, page, step: str, *, full_page: bool = True) -> Path:
        if self.steps == 0:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
            screenshot_dirs.append(self.folder)
            print(f"screenshots: {self.folder}")
        self.steps += 1
        path = self.folder / f"{self.steps:02d}-{re.sub(r'[^A-Za-z0-9_-]+', '-', step)}.png"
        page.screenshot(path=path, full_page=full_page)
        return path

    def docs_screenshot(self, page, name: str) -> Path:
        """What the viewport shows, as a step screenshot; also into docs/screenshots/ when UPDATE_SCREENSHOTS=1."""
        path = self.screenshot(page, name, full_page=False)
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / f"{name}.png")
        return path

    # Accessibility.

    @property
    def axe_source(self) -> str:
        if self._axe_source is None:
            self._axe_source = AXE_JS.read_text("utf-8")
        return self._axe_source

    def check_accessibility(self, page) -> None:
        """Run axe-core's WCAG 2.1 A and AA rules on the page as it is now; fail on any violation."""
        info = self.pages.get(page)
        if info is not None and info.options.get("java_script_enabled") is False:
            violations = self._axe_on_copy(page, info)
        else:
            violations = self._axe(page)
        assert not violations, _describe_violations(page.url, violations)

    def _axe(self, target) -> list[dict]:
        # page.evaluate, not add_script_tag: a <script> added to the page is inline, and our Content-Security-Policy
        # (script-src 'self') rightly blocks it; code evaluated through the DevTools protocol is not subject to the
        # page's CSP, so the tests can leave CSP on and see any violation of it as a console error.
        if not target.evaluate("() => typeof window.axe === 'object'"):
            target.evaluate(self.axe_source)
        return target.evaluate(_RUN_AXE, AXE_TAGS)

    def _axe_on_copy(self, page, info: _PageInfo) -> list[dict]:
        # With JavaScript off, timers never fire in the page, so axe.run cannot finish there. Check the same markup,
        # at the same address and viewport, in a page that runs axe but none of the page's own scripts (a CSP of
        # script-src 'none'). Form controls show their markup's state there, not what was typed since.
        html = page.content()
        options = {**info.options, "java_script_enabled": True}
        key = repr(sorted(options.items()))
        if key not in self._audit_pages:
            context = self.new_context(**options)
            context.add_init_script(script=self.axe_source)
            audit_info = _PageInfo(options)
            context.route("**/*", lambda route: self._only_local(route, audit_info))
            audit = context.new_page()
            audit.route("**/*", lambda route: self._serve_copy(route, audit))
            self._audit_pages[key] = audit
            self.audit_infos.append(audit_info)
        audit = self._audit_pages[key]
        self._copies[audit] = html
        # Without the fragment, so that going to the same page again loads it anew.
        audit.goto(page.url.split("#", 1)[0])
        return self._axe(audit)

    def _serve_copy(self, route, audit) -> None:
        if route.request.is_navigation_request():
            route.fulfill(
                status=200,
                body=self._copies[audit],
                content_type="text/html; charset=utf-8",
                headers={"Content-Security-Policy": "script-src 'none'"},
            )
        else:
            route.fallback()


_RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html, summary: n.failureSummary})),
  }));
}"""


def _describe_violations(url: str, violations: list[dict]) -> str:
    url = re.sub(r"(/r/)[A-Za-z0-9_-]+", r"\1[token]", url)
    lines = [f"axe-core found {len(violations)} WCAG 2.1 A/AA violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"][:10]:
            lines.append(f"    {node['target']}: {node['html'][:200]}")
            lines.extend(f"      {line.strip()}" for line in node["summary"].splitlines() if line.strip())
        if len(violation["nodes"]) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more elements")
    return "\n".join(lines)
