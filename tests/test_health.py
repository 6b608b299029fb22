"""GET /healthz: what a load balancer asks every few seconds."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from survey.extensions import db


def test_healthy_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": True}


def test_unavailable_when_the_database_does_not(client, monkeypatch):
    def fail(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", fail)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] is False
