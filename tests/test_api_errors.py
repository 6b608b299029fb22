"""Errors under /api/ are JSON whatever raised them, as the OpenAPI document says; pages keep HTML errors."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError


def test_an_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404 and response.is_json
    assert response.get_json() == {"error": "Not Found", "status": 404}
    assert "text/html" in client.get("/no-such-page").content_type


def test_a_wrong_method_is_a_json_405_with_allow(client):
    response = client.delete("/api/v1/surveys")
    assert response.status_code == 405 and response.get_json()["status"] == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET"}


def test_failures_of_ours_and_of_the_database_are_json(app, client, monkeypatch):
    from survey.views import api

    def broken():
        raise RuntimeError("boom")

    def unreachable():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setitem(app.view_functions, "api.openapi", api.public(broken))
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 500 and response.get_json() == {"error": "Internal Server Error", "status": 500}
    monkeypatch.setitem(app.view_functions, "api.openapi", api.public(unreachable))
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 503 and response.get_json()["status"] == 503
    assert response.headers["Retry-After"] == "30"
