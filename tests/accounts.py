"""Fixtures for people who log in: users per role, and a client logged in through the real log-in form."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from survey import clock
from survey.extensions import db
from survey.models import Cluster, Role, User
from survey.operations.accounts import create_user, start_login_session

PASSWORD = "correct horse battery staple"


def log_in(client: FlaskClient, email: str, password: str = PASSWORD, **kwargs):
    """Post the log-in form as a browser would (the page first, for its CSRF token)."""
    from tests.conftest import csrf_token

    page = client.get("/login", **kwargs)
    data = {"email": email, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))}
    return client.post("/login", data=data, **kwargs)


@pytest.fixture
def make_user(app) -> Callable[..., User]:
    def make(email: str, role: str | Role, clusters: list[Cluster] | None = None, password: str = PASSWORD) -> User:
        user = create_user(email, password, Role(role), clusters or [])
        db.session.commit()
        return user

    return make


@pytest.fixture
def client_for(app) -> Callable[[User], FlaskClient]:
    """A new client (a browser of its own) logged in as the user."""

    def make(user: User, password: str = PASSWORD) -> FlaskClient:
        client = app.test_client()
        response = log_in(client, user.email, password)
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    return make


@pytest.fixture
def quick_client_for(app) -> Callable[[User], FlaskClient]:
    """A new client logged in as the user without the log-in form (tests/test_auth.py covers that form): for
    tests that need many logged-in clients."""

    def make(user: User) -> FlaskClient:
        client = app.test_client()
        token = start_login_session(user, clock.now())
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = token
            session["_fresh"] = True
        return client

    return make


@pytest.fixture
def cluster_a(make_cluster) -> Cluster:
    cluster = make_cluster("alpha", ecosystem="digital", country="ES")
    db.session.commit()
    return cluster


@pytest.fixture
def cluster_b(make_cluster) -> Cluster:
    cluster = make_cluster("beta", ecosystem="health", country="BE")
    db.session.commit()
    return cluster


@pytest.fixture
def admin(make_user) -> User:
    return make_user("admin@example.org", Role.ADMIN)


@pytest.fixture
def policymaker(make_user) -> User:
    return make_user("policy@example.org", Role.POLICYMAKER)


@pytest.fixture
def manager_a(make_user, cluster_a) -> User:
    return make_user("manager-a@example.org", Role.MANAGER, [cluster_a])


@pytest.fixture
def manager_b(make_user, cluster_b) -> User:
    return make_user("manager-b@example.org", Role.MANAGER, [cluster_b])


@pytest.fixture
def admin_client(client_for, admin) -> FlaskClient:
    return client_for(admin)


@pytest.fixture
def policymaker_client(client_for, policymaker) -> FlaskClient:
    return client_for(policymaker)


@pytest.fixture
def manager_client(client_for, manager_a) -> FlaskClient:
    """Logged in as the manager of cluster A ("alpha")."""
    return client_for(manager_a)
