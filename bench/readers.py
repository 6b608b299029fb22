"""A policymaker for benchmarks: a logged-in test client for the report pages and a token for the API."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient

from survey import clock
from survey.extensions import db
from survey.models import Role
from survey.operations.accounts import create_api_token, create_user, start_login_session


def reader_clients(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    """A test client logged in as a new policymaker (sees every cluster), and API headers with their token."""
    with app.app_context():
        user = create_user(f"bench-{uuid.uuid4().hex[:8]}@example.org", uuid.uuid4().hex + "Aa1!", Role.POLICYMAKER)
        db.session.flush()
        session_token = start_login_session(user, clock.now())
        _api_token, secret = create_api_token(user, "bench", clock.now())
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_token
        session["_fresh"] = True
    return client, {"Authorization": f"Bearer {secret}"}
