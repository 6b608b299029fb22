"""REPORTS_DATABASE_URL: reports read from the read replica, everything else (log-in, API tokens, submissions)
from and to the primary.

The "replica" here is a snapshot of the primary (a copy of its SQLite file) that then falls behind it: a report
that counts the snapshot's responses, not the primary's, was read from the replica. Replication itself is
PostgreSQL's job (docs/deploy.md); what the app must get right is which connection each read and write takes.
"""

from __future__ import annotations

import sqlite3

import pytest

from survey import MIGRATIONS_DIR, clock, create_app
from survey.extensions import db
from tests.conftest import complete_answers, csrf_token

# The dialect matters here: run on PostgreSQL too (tests/conftest.py).
pytestmark = pytest.mark.both_databases


def _responses(path, wave: str | None = None) -> int:
    """Responses in the database file (of one wave, if given)."""
    with sqlite3.connect(path) as connection:
        if wave is None:
            return connection.execute("SELECT count(*) FROM response").fetchone()[0]
        return connection.execute(
            "SELECT count(*) FROM response JOIN wave ON wave.id = response.wave_id WHERE wave.slug = ?", (wave,)
        ).fetchone()[0]


def _close(app, slug: str) -> None:
    from survey.models import Wave
    from survey.operations.platform import close_wave

    with app.app_context():
        close_wave(db.session.query(Wave).filter_by(slug=slug).one(), clock.now())
        db.session.commit()


def _snapshot(source, target) -> None:
    """A consistent copy of a live SQLite database, as a replica would hold it."""
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)


@pytest.fixture
def primary_and_replica(tmp_path):
    from flask_migrate import upgrade

    from survey.cli.demo import DEMO_ORGANISATION, DEMO_WAVE, load_demo
    from survey.models import Organisation, Role, Wave
    from survey.operations.accounts import create_api_token, create_user
    from survey.operations.setup import invite_organisation

    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{primary}"})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        load_demo(40, 5, clock.now())
        user = create_user("reader@example.org", "a password for the replica test", Role.POLICYMAKER, [])
        _, api_token = create_api_token(user, "replica", clock.now())
        db.session.commit()
        _snapshot(primary, replica)
        # The primary moves on: another organisation answers after the snapshot was taken.
        wave = db.session.query(Wave).filter_by(slug=DEMO_WAVE).one()
        organisation = db.session.query(Organisation).filter_by(name=DEMO_ORGANISATION).one()
        _, token = invite_organisation(wave, organisation, clock.now())
        db.session.commit()
        questionnaire = wave.questionnaire.parsed
        db.session.remove()
        db.engine.dispose()
    return {
        "primary": primary,
        "replica": replica,
        "api_token": api_token,
        "token": token,
        "wave": DEMO_WAVE,
        "questionnaire": questionnaire,
    }


def _app_with_replica(setup):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{setup['primary']}",
            "REPORTS_DATABASE_URI": f"sqlite:///{setup['replica']}",
        }
    )


def _adoption(client, setup):
    return client.get(
        f"/api/v1/surveys/{setup['wave']}/adoption", headers={"Authorization": f"Bearer {setup['api_token']}"}
    )


def _total(client, setup) -> int:
    response = _adoption(client, setup)
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = response.get_json()["rows"]
    return max(row["n"] for row in rows if row["n"] is not None)


def test_reports_read_the_replica_while_submissions_go_to_the_primary(primary_and_replica):
    setup = primary_and_replica
    app = _app_with_replica(setup)
    client = app.test_client()
    before_primary, replica_count = _responses(setup["primary"]), _responses(setup["replica"])

    # A respondent's answers are written to the primary only.
    page = client.get(f"/r/{setup['token']}")
    assert page.status_code == 200
    answers = complete_answers(setup["questionnaire"])
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "action": "submit"}
    submitted = client.post(f"/r/{setup['token']}", data={**form, **answers})
    assert submitted.status_code == 303, submitted.get_data(as_text=True)[:500]
    assert _responses(setup["primary"]) == before_primary + 1
    assert _responses(setup["replica"]) == replica_count

    # The wave closes on the primary. Until the replica replays that, reports (read from the replica) still see
    # an open wave, whose results are not published; the API token, which lives on the primary, is accepted.
    _close(app, setup["wave"])
    assert _adoption(client, setup).status_code == 404
    _snapshot(setup["primary"], setup["replica"])
    assert _total(client, setup) == _responses(setup["primary"], setup["wave"])  # the cache is off here


def test_without_a_replica_reports_read_the_primary(primary_and_replica):
    setup = primary_and_replica
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{setup['primary']}"})
    client = app.test_client()
    page = client.get(f"/r/{setup['token']}")
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "action": "submit"}
    client.post(f"/r/{setup['token']}", data={**form, **complete_answers(setup["questionnaire"])})
    _close(app, setup["wave"])
    assert _total(client, setup) == _responses(setup["primary"], setup["wave"])
