"""Schemathesis against /api/v1/openapi.json on the live app: no server errors, every response (status code,
content type, headers, body) matches the document, schema-violating requests are refused, valid ones accepted,
undeclared methods get a 405."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from werkzeug.serving import make_server

from survey import clock
from survey.extensions import db
from survey.operations.accounts import create_api_token
from survey.operations.setup import create_wave, load_questionnaire
from tests.reports_data import populate


def test_the_api_matches_its_openapi_document(app, make_cluster, make_invited, open_wave, admin):
    """`schemathesis run` with every phase and check (tests/schemathesis.toml) against the app, served on
    loopback: a closed wave with results to read and an open one to submit to."""
    populate(make_cluster, make_invited, open_wave)
    today = clock.today()
    running = create_wave("wave-2023", "Survey 2023", load_questionnaire(), today, today + timedelta(days=30))
    running.open(clock.now())
    invited = make_invited(wave=running)
    token = create_api_token(admin, "schemathesis", clock.now())[1]
    db.session.commit()
    app.config.update(
        MIN_CELL_SIZE=3, API_SUBMIT_RATE_LIMIT="100000 per minute", API_READ_RATE_LIMIT="100000 per minute"
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    environment = {
        **os.environ,
        "ST_API_TOKEN": token,
        "ST_INVITATION_TOKEN": invited.token,
        "ST_OPEN_WAVE": running.slug,
        "ST_CLOSED_WAVE": open_wave.slug,
    }
    try:
        run = subprocess.run(
            [
                str(Path(sys.executable).with_name("st")),
                "--config-file",
                str(Path(__file__).with_name("schemathesis.toml")),
                "run",
                f"http://127.0.0.1:{server.server_port}/api/v1/openapi.json",
                "--checks",
                "all",
                "--seed",
                "1",
                "--no-color",
            ],
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.shutdown()
        thread.join()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "7/7" in run.stdout  # every operation was tested


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
