""" "About N minutes", measured from respondents (issue 16): the time from a link's first showing of the
questionnaire to its submission, the median of a closed wave's, and the estimate the next wave's respondents
are given from it, against the rule of thumb until enough were measured."""

from __future__ import annotations

import statistics
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from survey import clock
from survey.extensions import db
from survey.models import Response
from survey.operations.answering_time import MIN_SAMPLE, MOST_SECONDS, estimate_for
from survey.operations.platform import close_wave
from survey.operations.setup import create_wave
from tests.conftest import complete_answers, csrf_token

pytestmark = pytest.mark.both_databases  # times as each database hands them back


def _at(monkeypatch, moment):
    monkeypatch.setattr(clock, "now", lambda: moment)


def _answer(client, invited, monkeypatch, start, minutes: float):
    _at(monkeypatch, start)
    page = client.get(invited.url)
    _at(monkeypatch, start + timedelta(minutes=minutes))
    data = {**complete_answers(invited.wave.questionnaire.parsed), "csrf_token": csrf_token(page.data.decode())}
    assert client.post(invited.url, data={**data, "action": "submit"}).status_code == 303


def test_the_time_from_first_showing_to_submission_is_kept_and_a_second_look_does_not_restart_it(
    app, invited, monkeypatch
):
    client, start = app.test_client(), clock.now()
    _at(monkeypatch, start)
    client.get(invited.url)
    _at(monkeypatch, start + timedelta(minutes=3))
    client.get(invited.url)  # came back to the page: the clock keeps running from the first showing
    _answer(client, invited, monkeypatch, start + timedelta(minutes=4), minutes=3)
    assert db.session.scalars(select(Response.answering_seconds)).one() == 7 * 60


def test_several_sittings_are_not_taken_for_answering_time(app, invited, monkeypatch):
    _answer(app.test_client(), invited, monkeypatch, clock.now(), minutes=MOST_SECONDS / 60 + 30)
    assert db.session.scalars(select(Response.answering_seconds)).one() is None


def test_the_next_wave_says_how_long_the_last_one_s_respondents_took(app, make_invited, open_wave, monkeypatch):
    rule_of_thumb = open_wave.questionnaire.parsed.minutes
    start = clock.now()
    taken = [6 + (index % 7) for index in range(MIN_SAMPLE + 1)]  # minutes: a median of 9
    for minutes in taken:
        _answer(app.test_client(), make_invited(), monkeypatch, start, minutes)
    next_wave = create_wave("wave-2023", "Survey 2023", open_wave.questionnaire)
    next_wave.open(start)
    db.session.commit()
    assert estimate_for(next_wave).minutes == rule_of_thumb  # nothing measured while the wave runs

    close_wave(open_wave, start)
    db.session.commit()
    assert open_wave.answering_sample == len(taken)
    assert open_wave.answering_seconds == statistics.median(taken) * 60
    estimate = estimate_for(next_wave)
    assert (estimate.minutes, estimate.measured_in, estimate.sample) == (9, "Survey 2021", len(taken))
    assert estimate.minutes != rule_of_thumb  # the test would tell the two apart

    newcomer = make_invited(wave=next_wave)
    page = unescape(app.test_client().get(newcomer.url).get_data(as_text=True))
    assert "about 9 minutes" in page
    assert f"at least half of the {len(taken)} organisations that answered Survey 2021 in one sitting" in page


def test_too_few_measured_keep_the_rule_of_thumb(app, make_invited, open_wave, monkeypatch):
    for _ in range(3):
        _answer(app.test_client(), make_invited(), monkeypatch, clock.now(), 20)
    close_wave(open_wave, clock.now())
    db.session.commit()
    assert open_wave.answering_sample == 3
    assert estimate_for(open_wave).minutes == open_wave.questionnaire.parsed.minutes
