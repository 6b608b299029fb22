"""Whatever is posted, the questionnaire answers with a 3xx or 4xx, never a 500; a database outage is a 503."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey import clock, create_app
from survey.extensions import db
from survey.models import Cluster, Organisation
from survey.operations.setup import create_wave, invite_organisation, load_questionnaire
from tests.conftest import complete_answers, csrf_token

# The dialect matters here: run on PostgreSQL too (tests/conftest.py).
pytestmark = pytest.mark.both_databases

FIELD_VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["using", "planning", "na", "5", "0", "-1", "99999999999", "none", "", " ", "\x00", "ES", "ZZ"]),
    st.lists(st.sampled_from(["none", "reshoring", "new_suppliers", "bogus"]), max_size=4),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    overrides=st.dictionaries(
        st.sampled_from(
            [
                "cloud",
                "ai",
                "country",
                "region",
                "org_type",
                "size_class",
                "ecosystem",
                "supply_chains",
                "employees_now",
                "value_chain_changes",
                "comments",
                "unknown_field",
            ]
        ),
        FIELD_VALUES,
        max_size=6,
    ),
    action=st.sampled_from(["submit", "save", "", "delete"]),
)
def test_fuzzed_posts_never_give_a_server_error(app, client, invited, overrides, action):
    app.config["RESPONDENT_RATE_LIMIT"] = "100000 per minute"  # hundreds of posts to one link, on purpose
    page = client.get(invited.url).get_data(as_text=True)
    data = {
        **complete_answers(invited.wave.questionnaire.parsed),
        **overrides,
        "action": action,
        "csrf_token": csrf_token(page),
    }
    response = client.post(invited.url, data=data)
    assert response.status_code in {303, 400, 422}, response.status_code


def test_database_outage_gives_503_and_hands_the_answers_back(tmp_path):
    # The outage is simulated by taking the SQLite file away between opening the page and submitting it.
    folder = tmp_path / "db"
    folder.mkdir()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'survey.sqlite3'}"})
    with app.app_context():
        db.create_all()
        wave = create_wave("w", "W", load_questionnaire())
        wave.open(clock.now())
        cluster = Cluster(slug="c", name="C", country="ES", ecosystem="digital")
        organisation = Organisation(name="O", country="ES", clusters=[cluster])
        db.session.add(organisation)
        _, token = invite_organisation(wave, organisation, clock.now())
        db.session.commit()
        questionnaire = wave.questionnaire.parsed
        db.session.remove()
        db.engine.dispose()

    client = app.test_client()
    page = client.get(f"/r/{token}").get_data(as_text=True)
    shutil.rmtree(folder)
    with app.app_context():
        db.engine.dispose()
    data = {
        **complete_answers(questionnaire, comments="Do not lose me"),
        "action": "submit",
        "csrf_token": csrf_token(page),
    }
    response = client.post(f"/r/{token}", data=data)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    html = response.get_data(as_text=True)
    assert 'name="comments" value="Do not lose me"' in html
    assert "Traceback" not in html and "sqlite" not in html.lower()
