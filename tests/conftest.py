"""Fixtures: an app per test on a fresh database (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
a client, a CLI runner, and factories for a survey that people can answer."""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

os.environ["APP_ENV"] = "testing"
os.environ.pop("DATABASE_URL", None)
# Rate-limit counters of this test run, apart from any other run's in a shared Redis. (Flask-Limiter keeps the
# first app's key prefix for the whole process, so the prefix is chosen once per run, here.)
os.environ["RATELIMIT_KEY_PREFIX"] = f"survey-test-{uuid.uuid4().hex[:12]}"

from config import normalise_database_url  # noqa: E402
from survey import MIGRATIONS_DIR, clock, create_app  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import Cluster, Invitation, Organisation, Wave  # noqa: E402
from survey.operations.setup import create_wave, invite_organisation, load_questionnaire  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL")

# Users per role and logged-in clients (tests/accounts.py); an SMTP server on loopback (tests/mailserver.py).
pytest_plugins = ["tests.accounts", "tests.mailserver"]

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not PG_URL, reason="set TEST_DATABASE_URL to run the PostgreSQL tests"),
    ),
]


@pytest.fixture(scope="session")
def postgres_server_url():
    """A PostgreSQL database of the test session's own, created empty and dropped at the end."""
    base = make_url(normalise_database_url(PG_URL))
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def make_database() -> str:
        name = f"survey_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    yield make_database
    with admin.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server_url):
    """One migrated PostgreSQL database shared by the session; each test empties it afterwards."""
    from flask_migrate import upgrade

    url = postgres_server_url()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        db.engine.dispose()
    return url


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


def pytest_collection_modifyitems(config, items):
    """PostgreSQL runs for the tests where the dialect matters: modules marked `both_databases` (writes of
    tallies and responses, the report queries checked against a recount, exports written by the database,
    migrations, outages). Everything else runs on SQLite only; the same code above the database is exercised
    either way, and each test on PostgreSQL costs a database emptied and refilled."""
    dropped = [
        item
        for item in items
        if getattr(item, "callspec", None) is not None
        and item.callspec.params.get("backend") == "postgresql"
        and item.get_closest_marker("both_databases") is None
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        kept = set(map(id, dropped))
        items[:] = [item for item in items if id(item) not in kept]


#: Drawings made by vl-convert in this test process, by spec and options (see `drawings_memoised`).
_DRAWN: dict[tuple[str, str, str], object] = {}


@pytest.fixture
def drawings_memoised(monkeypatch):
    """vl-convert's PNG, PDF and SVG drawings memoised per spec for the test process, for tests that check who
    may fetch a chart, a brief or a pack, not what it shows (tests/test_downloads.py and tests/test_charts.py
    check the drawings themselves). Each distinct spec is still drawn for real, once."""
    import orjson
    import vl_convert

    for name in ("vegalite_to_png", "vegalite_to_pdf", "vegalite_to_svg"):
        draw = getattr(vl_convert, name)

        def memoised(spec, *args, _draw=draw, _name=name, **kwargs):
            options = repr((args, sorted(kwargs.items())))
            key = (_name, orjson.dumps(spec, option=orjson.OPT_SORT_KEYS).decode(), options)
            if key not in _DRAWN:
                _DRAWN[key] = _draw(spec, *args, **kwargs)
            return _DRAWN[key]

        monkeypatch.setattr(vl_convert, name, memoised)


@pytest.fixture
def database_url(backend, tmp_path, request):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        url = request.getfixturevalue("migrated_postgres")
        yield url
        _empty_postgres(url)


class BrowserLikeClient(FlaskClient):
    """Each request gets an app context (and so `g` and a database session) of its own, as in a real server,
    even though the test holds an app context of its own around it."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, backend):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "BASE_URL": "http://survey.test"})
    app.test_client_class = BrowserLikeClient
    with app.app_context():
        if backend == "sqlite":
            db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@dataclass
class Invited:
    """An open wave with one invited organisation, and the secret token of its link."""

    wave: Wave
    cluster: Cluster
    organisation: Organisation
    invitation: Invitation
    token: str

    @property
    def url(self) -> str:
        return f"/r/{self.token}"


@pytest.fixture
def make_cluster(app):
    def make(slug: str = "alpha", ecosystem: str = "digital", country: str = "ES") -> Cluster:
        cluster = Cluster(slug=slug, name=f"{slug.title()} Cluster", country=country, ecosystem=ecosystem)
        db.session.add(cluster)
        db.session.flush()
        return cluster

    return make


@pytest.fixture
def open_wave(app) -> Wave:
    today = clock.today()
    wave = create_wave(
        "wave-2021", "Survey 2021", load_questionnaire(), today - timedelta(days=1), today + timedelta(days=30)
    )
    wave.open(clock.now())
    db.session.commit()
    return wave


@pytest.fixture
def make_invited(app, open_wave, make_cluster):
    """Factory: an organisation (in the given clusters) invited to the open wave."""
    counter = iter(range(1, 10_000))

    def make(
        clusters: list[Cluster] | None = None,
        name: str | None = None,
        size: str = "small",
        org_type: str = "sme",
        wave: Wave | None = None,
    ) -> Invited:
        clusters = clusters or [make_cluster(f"cluster-{next(counter)}")]
        if name is None:  # a name not taken yet (tests/reports_data.py may have restored organisations)
            name = f"Organisation {next(counter)}"
            while db.session.scalar(select(Organisation.id).filter_by(name=name)) is not None:
                name = f"Organisation {next(counter)}"
        organisation = Organisation(
            name=name,
            country=clusters[0].country,
            org_type=org_type,
            size_class=size,
            ecosystem=clusters[0].ecosystem,
            clusters=clusters,
        )
        db.session.add(organisation)
        invitation, token = invite_organisation(wave or open_wave, organisation, clock.now())
        db.session.commit()
        return Invited(wave or open_wave, clusters[0], organisation, invitation, token)

    return make


@pytest.fixture
def invited(make_invited) -> Invited:
    return make_invited()


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token field"
    return match.group(1)


def complete_answers(questionnaire, **overrides) -> dict[str, object]:
    """Form data answering every question validly (the first choice where there is one)."""
    data: dict[str, object] = {}
    for code, item in questionnaire.items.items():
        if item.type in {"choice", "select"}:
            data[code] = item.choices[0].code
        elif item.type == "country":
            data[code] = "ES"
        elif item.type == "multi":
            data[code] = [item.choices[0].code]
        elif code.startswith("employees"):
            # Persons employed that fit the size class (forms/plausibility.py warns otherwise).
            size = str(overrides.get("size_class", "micro"))
            data[code] = str({"micro": 7, "small": 20, "medium": 100, "large": 500}.get(size, 7))
        elif item.type == "integer":
            data[code] = "42"
        elif code == "region":
            data[code] = "ES21"
        else:
            data[code] = "All fine."
    data.update(overrides)
    return data


def varied_answers(questionnaire, index: int, **overrides) -> dict[str, object]:
    """`complete_answers`, with the technologies and challenges answered by the index-th choice (of the first
    two, alternately): a group of such responses never answers a reported question all alike, which the
    dominance rule would withhold (docs/reports.md)."""
    data = complete_answers(questionnaire)
    for item in (*questionnaire.technologies, *questionnaire.challenges):
        data[item.code] = item.choices[index % 2].code
    data.update(overrides)
    return data
