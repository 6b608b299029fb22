"""The benchmark's bulk loader writes exactly the tallies the app keeps: checked on a small N."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from bench.generate import load, synthesise
from reports.aggregate import load_survey
from reports.dimensions import Query
from reports.results import adoption
from survey.extensions import db
from survey.models import Response, Tally, Wave
from survey.tallying import response_counts


@pytest.fixture
def loaded(app):
    synthetic = synthesise(600, clusters=12, seed=5)
    counts = load(db.engine, synthetic, log=lambda *_: None, fast=False)
    db.session.expire_all()
    return synthetic, counts


def test_bulk_loaded_tallies_equal_the_tallies_of_the_stored_responses(loaded):
    synthetic, counts = loaded
    wave = db.session.scalars(select(Wave)).one()
    questionnaire = wave.questionnaire.parsed
    expected: Counter = Counter()
    responses = db.session.scalars(select(Response)).all()
    assert len(responses) == 600
    for response in responses:
        expected.update(response_counts(questionnaire, response.wave_id, response.profile,
                                        [cluster.id for cluster in response.clusters], response.answers))
    stored = {(t.wave_id, t.grain, t.cluster_id, t.size_class, t.org_type, t.country, t.ecosystem, t.item,
               t.answer): t.n for t in db.session.scalars(select(Tally))}
    assert stored == {key: n for key, n in expected.items() if n}
    assert counts["tally"] == len(stored)
    assert sum(len(r.clusters) > 1 for r in responses) == counts["memberships"] - 600 > 0  # some in two clusters


def test_bulk_loaded_answers_are_valid_questionnaire_answers(loaded):
    wave = db.session.scalars(select(Wave)).one()
    questionnaire = wave.questionnaire.parsed
    for response in db.session.scalars(select(Response).limit(50)):
        for code, item in questionnaire.items.items():
            if item.section == "profile":
                continue
            value = response.answers[code]
            if item.type == "choice":
                assert value in item.codes, (code, value)
            elif item.type == "multi":
                assert value and set(value) <= item.codes


def test_reports_read_the_bulk_loaded_wave(loaded):
    conn = db.session.connection()
    survey = load_survey(conn, "bench-2021")
    table = adoption(conn, survey, Query(wave_ids=(survey.wave_id,), by="cluster"), 5)
    assert len(table) == 12 * 16 and not table["suppressed"].any()
    assert table.groupby("group")["n"].first().sum() == 600 + (loaded[1]["memberships"] - 600)
