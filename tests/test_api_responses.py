"""POST /api/v1/surveys/<slug>/responses with an invitation token, and the other survey endpoints."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from survey import clock
from survey.extensions import db
from survey.models import Response
from survey.operations.accounts import create_api_token
from tests.conftest import complete_answers

# The dialect matters here: run on PostgreSQL too (tests/conftest.py).
pytestmark = pytest.mark.both_databases


def _body(questionnaire, **overrides) -> dict:
    answers = complete_answers(questionnaire, **overrides)
    body: dict = {"profile": {}, "adoption": {}, "challenges": {}, "indicators": {}, "comments": {}}
    for code, item in questionnaire.items.items():
        if item.section in body:
            body[item.section][code] = int(answers[code]) if item.type == "integer" else answers[code]
    return body


def _post(client, invited, body, token=None):
    headers = {"Authorization": f"Bearer {token or invited.token}"}
    return client.post(f"/api/v1/surveys/{invited.wave.slug}/responses", json=body, headers=headers)


def test_first_submission_201_then_replacement_200(client, invited):
    questionnaire = invited.wave.questionnaire.parsed
    first = _post(client, invited, _body(questionnaire))
    assert first.status_code == 201 and first.get_json()["status"] == "created"
    key = first.get_json()["edit_key"]
    # Whoever holds the token but not the key (a manager with the link, say) cannot replace the answers.
    refused = _post(client, invited, _body(questionnaire, ai="not_planned"))
    assert refused.status_code == 409 and refused.get_json()["status"] == 409
    second = client.post(
        f"/api/v1/surveys/{invited.wave.slug}/responses",
        json=_body(questionnaire, ai="using"),
        headers={"Authorization": f"Bearer {invited.token}", "X-Edit-Key": key},
    )
    assert second.status_code == 200 and second.get_json()["status"] == "replaced"
    assert "edit_key" not in second.get_json()
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    assert db.session.scalars(select(Response)).one().answers["ai"] == "using"


def test_same_validation_as_the_form(client, invited):
    questionnaire = invited.wave.questionnaire.parsed
    body = _body(questionnaire, ai="sometimes")
    del body["adoption"]["cloud"]
    body["indicators"]["employees_now"] = -5
    body["comments"]["comments"] = "bad\x07bell"
    body["adoption"]["teleportation"] = "using"
    response = _post(client, invited, body)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {
        "adoption.ai",
        "adoption.cloud",
        "indicators.employees_now",
        "comments.comments",
        "adoption.teleportation",
    } <= set(errors)
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_malformed_unknown_expired_and_cookie_only(client, invited, admin_client):
    questionnaire = invited.wave.questionnaire.parsed
    assert _post(client, invited, ["not", "an", "object"]).status_code == 400
    assert _post(client, invited, {"profile": "x"}).status_code == 400
    assert _post(client, invited, {"other": {}}).status_code == 400
    assert _post(client, invited, {"adoption": {"ai": {"nested": 1}}}).status_code == 400
    assert _post(client, invited, _body(questionnaire), token="no-such-token").status_code == 404
    # A logged-in browser (session cookie) without the invitation token submits nothing.
    no_token = admin_client.post(f"/api/v1/surveys/{invited.wave.slug}/responses", json=_body(questionnaire))
    assert no_token.status_code == 401
    invited.wave.close(clock.now())
    db.session.commit()
    assert _post(client, invited, _body(questionnaire)).status_code == 410
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_surveys_questionnaire_and_status(client, invited, admin, manager_b, make_user):
    token = create_api_token(admin, "script", clock.now())[1]
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/surveys", headers=headers).get_json()["surveys"]
    assert [s["slug"] for s in listed] == ["wave-2021"] and listed[0]["state"] == "open"
    document = client.get("/api/v1/surveys/wave-2021/questionnaire", headers=headers).get_json()["document"]
    assert [s["code"] for s in document["sections"]][:3] == ["profile", "adoption", "challenges"]
    _post(client, invited, _body(invited.wave.questionnaire.parsed))
    status = client.get("/api/v1/surveys/wave-2021/status", headers=headers).get_json()
    assert status["total"] == {"invited": 1, "responses": 1}
    assert status["clusters"] == [
        {"cluster": invited.cluster.slug, "name": invited.cluster.name, "invited": 1, "responses": 1}
    ]
    other = create_api_token(manager_b, "script", clock.now())[1]
    db.session.commit()
    scoped = client.get("/api/v1/surveys/wave-2021/status", headers={"Authorization": f"Bearer {other}"})
    assert scoped.get_json()["clusters"] == [] and "total" not in scoped.get_json()
