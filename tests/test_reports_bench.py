"""The benchmark's bulk loader writes exactly the tallies the app keeps, in both of its waves, for a panel of
organisations that answered both: checked on a small N."""

from __future__ import annotations

import html
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from bench.generate import EARLIER_WAVE_SLUG, WAVE_SLUG, load, synthesise
from reports.aggregate import load_survey
from reports.dimensions import Query
from reports.results import adoption, disclosure_for
from survey import clock
from survey.extensions import db
from survey.models import Invitation, Organisation, Response, Tally, Wave, WaveState
from survey.operations.platform import close_wave
from survey.operations.tallies import response_counts

# The dialect matters here: run on PostgreSQL too (tests/conftest.py).
pytestmark = pytest.mark.both_databases

#: An odd number: the open wave gets the extra response.
RESPONSES, EARLIER, LATEST = 601, 300, 301


@pytest.fixture
def loaded(app):
    synthetic = synthesise(RESPONSES, clusters=12, seed=5)
    counts = load(db.engine, synthetic, log=lambda *_: None, fast=False)
    db.session.expire_all()
    return synthetic, counts


def _waves() -> tuple[Wave, Wave]:
    waves = {wave.slug: wave for wave in db.session.scalars(select(Wave))}
    assert set(waves) == {EARLIER_WAVE_SLUG, WAVE_SLUG}
    return waves[EARLIER_WAVE_SLUG], waves[WAVE_SLUG]


def test_bulk_loaded_tallies_equal_the_tallies_of_the_stored_responses_in_both_waves(loaded):
    _synthetic, counts = loaded
    earlier, latest = _waves()
    questionnaire = latest.questionnaire.parsed
    expected: Counter = Counter()
    responses = db.session.scalars(select(Response)).all()
    assert Counter(response.wave_id for response in responses) == {earlier.id: EARLIER, latest.id: LATEST}
    for response in responses:
        expected.update(
            response_counts(
                questionnaire,
                response.wave_id,
                response.profile,
                [cluster.id for cluster in response.clusters],
                response.answers,
            )
        )
    stored = {
        (t.wave_id, t.grain, t.cluster_id, t.size_class, t.org_type, t.country, t.ecosystem, t.item, t.answer): t.n
        for t in db.session.scalars(select(Tally))
    }
    assert stored == {key: n for key, n in expected.items() if n}
    assert {key[0] for key in stored} == {earlier.id, latest.id}
    assert counts["tally"] == len(stored)
    in_two = sum(len(r.clusters) > 1 for r in responses if r.wave_id == latest.id)
    assert in_two == counts["memberships"] - LATEST > 0  # some organisations are in two clusters


def test_the_earlier_wave_was_answered_by_the_same_organisations(loaded):
    earlier, latest = _waves()
    assert earlier.state is WaveState.CLOSED and earlier.closes_on < date.today()
    assert latest.accepts_answers(date.today())
    assert earlier.opens_on < latest.opens_on  # so the report compares the open wave with it
    responses = db.session.scalars(select(Response)).all()
    by_wave = {wave.id: {r.organisation_id: r for r in responses if r.wave_id == wave.id} for wave in (earlier, latest)}
    assert len(by_wave[earlier.id]) == EARLIER and len(by_wave[latest.id]) == LATEST  # one per organisation
    assert set(by_wave[earlier.id]) < set(by_wave[latest.id])
    organisations = {o.id: o for o in db.session.scalars(select(Organisation))}
    assert set(organisations) == set(by_wave[latest.id])
    for organisation_id, before in by_wave[earlier.id].items():
        now = by_wave[latest.id][organisation_id]
        assert before.profile == now.profile
        assert (
            [c.id for c in before.clusters]
            == [c.id for c in now.clusters]
            == sorted(c.id for c in organisations[organisation_id].clusters)
        )
    invitations = Counter((i.wave_id, i.organisation_id) for i in db.session.scalars(select(Invitation)))
    assert invitations == {(wave.id, o): 1 for wave in (earlier, latest) for o in organisations}


def test_bulk_loaded_answers_are_valid_questionnaire_answers(loaded):
    questionnaire = _waves()[1].questionnaire.parsed
    for wave_id in (wave.id for wave in _waves()):
        for response in db.session.scalars(select(Response).where(Response.wave_id == wave_id).limit(50)):
            for code, item in questionnaire.items.items():
                if item.section == "profile":
                    continue
                value = response.answers[code]
                if item.type == "choice":
                    assert value in item.codes, (code, value)
                elif item.type == "multi":
                    assert value and set(value) <= item.codes


def test_reports_read_the_bulk_loaded_waves(loaded):
    conn = db.session.connection()
    survey = load_survey(conn, WAVE_SLUG)
    table = adoption(conn, survey, Query(wave_ids=(survey.wave_id,), by="cluster"), 5)
    assert len(table) == 12 * 16
    # At 301 responses sister clusters share about five members, so a pair sharing fewer keeps one cluster
    # withheld (docs/reports.md); the others are shown, with a row withheld only where a cluster's answers to a
    # technology are all alike (the dominance rule).
    groups = disclosure_for(conn, (survey.wave_id,), 5).breakdown((), "cluster")
    assert len(groups) == 12 and groups["withheld"].sum() <= 3
    shown = set(groups[~groups["withheld"]]["group"])
    assert table[table["group"].isin(shown)].groupby("group")["suppressed"].mean().max() < 0.5
    assert groups["n"].sum() == LATEST + (loaded[1]["memberships"] - LATEST)  # each member once per cluster
    earlier = load_survey(conn, EARLIER_WAVE_SLUG).wave_id
    by_wave = adoption(conn, survey, Query(wave_ids=(earlier, survey.wave_id), by="wave"), 5)
    using = by_wave.groupby("group")["share_using"].mean()
    assert using[earlier] + 0.03 < using[survey.wave_id]  # adoption grew between the waves


def test_the_report_page_shows_the_change_between_the_waves(loaded, quick_client_for, make_user):
    _earlier, latest = _waves()
    close_wave(latest, clock.now())  # results are published at the close, as the benchmark does
    db.session.commit()
    reader = quick_client_for(make_user("policy@example.org", "policymaker"))
    response = reader.get(f"/reports/{WAVE_SLUG}")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert 'id="spec-waves"' in page and "There is only one wave so far" not in page
    assert "from Benchmark wave 2021 to Benchmark wave 2023" in page


def test_with_one_wave_all_responses_are_the_open_waves(app):
    # What bench/export.py loads, so that the exported wave holds every response.
    counts = load(db.engine, synthesise(51, clusters=4, seed=5, waves=1), log=lambda *_: None, fast=False)
    wave = db.session.scalars(select(Wave)).one()
    assert wave.slug == WAVE_SLUG and wave.state is WaveState.OPEN
    assert counts["responses"] == counts["organisations"] == counts["invitations"] == 51
    assert db.session.scalars(select(Response.wave_id)).all() == [wave.id] * 51
