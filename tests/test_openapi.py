"""Schemathesis against /api/v1/openapi.json, in process through the WSGI app: no server errors, and every
response (status code, content type, body) matches the document. Few examples per operation, to stay fast."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from survey import clock
from survey.extensions import db
from survey.operations.accounts import create_api_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_api_matches_its_openapi_document(app, make_cluster, make_invited, admin):
    invited = make_invited()
    for _ in range(2):
        make_invited(clusters=[invited.cluster])
    token = create_api_token(admin, "schemathesis", clock.now())[1]  # admins read open waves too
    db.session.commit()
    app.config["MIN_CELL_SIZE"] = 1
    app.config["API_SUBMIT_RATE_LIMIT"] = "10000 per minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:
        # The reading endpoints with the admin's API token; submissions with the invitation's token.
        bearer = invited.token if operation.method.upper() == "POST" else token
        headers = {"Authorization": f"Bearer {bearer}"}

        _fuzz(operation, headers)

    # Known-good requests, so that the 200 and 201 responses are checked too, whatever Hypothesis drew.
    client = app.test_client()
    for path in (
        "/api/v1/surveys",
        f"/api/v1/surveys/{invited.wave.slug}",
        f"/api/v1/surveys/{invited.wave.slug}/adoption?by=cluster",
        f"/api/v1/surveys/{invited.wave.slug}/challenges",
    ):
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, path


def _fuzz(operation, headers: dict[str, str]) -> None:
    @settings(max_examples=12, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


def test_every_api_route_is_in_the_document(app):
    """The document is kept by hand: a route added without it fails here."""
    from survey.openapi import document

    documented = {(path, method.upper()) for path, item in document()["paths"].items() for method in item}
    routes = {
        (rule.rule.replace("<", "{").replace(">", "}"), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == documented
