"""The yardstick for the submission load test: a bare Flask handler that only inserts what a submission stores.

POST /bare/<organisation_id> with the profile fields, `clusters` (ids, comma-separated) and `answers` (the JSON
the real app stores) inserts the response, its clusters and its tally increments in one transaction, through
the same driver (psycopg 3 via a SQLAlchemy engine with the same pool) and the same tally upsert as the app
(`survey.operations.tallies.apply_counts`). No
sessions, CSRF, invitation lookup, validation or ORM: what remains is the cost of the rows themselves.

    DATABASE_URL=postgresql+psycopg://… gunicorn -c gunicorn.conf.py 'bench.bare_app:create_app()'
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from flask import Flask, request
from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

from survey.models import Response
from survey.models.responses import response_cluster
from survey.operations.tallies import apply_counts, response_counts
from survey.questionnaire import default_document, parse

QUESTIONNAIRE = parse(default_document())
PROFILE = ("country", "org_type", "size_class", "ecosystem")


def create_app() -> Flask:
    app = Flask(__name__)
    engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)

    @app.post("/bare/<int:organisation_id>")
    def submit(organisation_id: int):
        form = request.form
        profile = {name: form[name] for name in PROFILE}
        answers = json.loads(form["answers"])
        clusters = sorted(int(c) for c in form["clusters"].split(","))
        wave_id = int(form["wave_id"])
        now = datetime.now(UTC).replace(tzinfo=None)
        counts = response_counts(QUESTIONNAIRE, wave_id, profile, clusters, answers)
        with Session(engine) as session, session.begin():
            response_id = session.execute(
                insert(Response)
                .values(
                    wave_id=wave_id,
                    organisation_id=organisation_id,
                    region=None,
                    answers=answers,
                    submitted_at=now,
                    updated_at=now,
                    **profile,
                )
                .returning(Response.id)
            ).scalar_one()
            session.execute(insert(response_cluster), [{"response_id": response_id, "cluster_id": c} for c in clusters])
            apply_counts(session, counts)
        return "", 201

    return app
