"""Reopening a closed wave for late answers (issue 16): the admin is told what it does and gives a new last day;
organisations counted at the close are told so and cannot change their answers; those that had not answered
can; the results are withdrawn meanwhile, and the next close publishes nothing a reader comparing the two
publications could learn a late organisation's answers from (reports.protection.protect_rounds)."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from babel.dates import format_date
from sqlalchemy import select

from survey import clock
from survey.extensions import db
from survey.models import Response, WaveState
from survey.operations.platform import close_wave, reopen_wave
from survey.operations.protections import publish_results
from survey.operations.responses import submit_response
from tests.conftest import complete_answers, csrf_token
from tests.reports_data import populate

pytestmark = pytest.mark.both_databases  # the lock the reopening takes, and the reports after it


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


def _answer(client, invited, **overrides):
    page = client.get(invited.url)
    typed = complete_answers(invited.wave.questionnaire.parsed, **overrides)
    return client.post(invited.url, data={**typed, "csrf_token": csrf_token(page.data.decode()), "action": "submit"})


def test_an_admin_reopens_a_closed_wave_for_those_who_had_not_answered(
    admin_client, invited, make_invited, client_for, make_user
):
    respondent, late = admin_client.application.test_client(), make_invited()
    assert _answer(respondent, invited, comments="Counted at the close.").status_code == 303
    counted_on = db.session.scalars(select(Response.updated_at)).one()
    wave_id = invited.wave.id
    close = f"/admin/waves/{wave_id}/close"
    assert admin_client.post(close, data={"csrf_token": csrf_token(_text(admin_client.get(close)))}).status_code == 303

    url = f"/admin/waves/{wave_id}/reopen"
    assert f'href="{url}"' in _text(admin_client.get("/admin/waves"))
    page = admin_client.get(url)
    text = _text(page)
    assert page.status_code == 200
    assert "1 organisation's answers were counted at the close" in text
    assert "withdrawn from cluster managers and policymakers until the survey closes again" in text
    past = admin_client.post(url, data={"csrf_token": csrf_token(text), "closes_on": str(clock.today() - timedelta(1))})
    assert past.status_code == 422 and "cannot be in the past" in _text(past)
    db.session.expire_all()
    assert invited.wave.state is WaveState.CLOSED  # asking, and a wrong date, change nothing

    policymaker = client_for(make_user("policy@example.org", "policymaker"))
    assert policymaker.get(f"/reports/{invited.wave.slug}").status_code == 200
    later = clock.today() + timedelta(days=10)
    assert admin_client.post(url, data={"csrf_token": csrf_token(text), "closes_on": str(later)}).status_code == 303
    db.session.expire_all()
    assert invited.wave.state is WaveState.OPEN and invited.wave.closes_on == later and invited.wave.reopenings == 1
    assert policymaker.get(f"/reports/{invited.wave.slug}").status_code == 404  # withdrawn while it runs again

    # The organisation counted at the close: told so, its answers kept as they were, what it types kept too.
    told = respondent.get(invited.url)
    assert told.status_code == 410
    assert "was reopened for organisations that had not answered" in _text(told)
    assert f"answers of {format_date(counted_on, 'long', locale='en')} are counted" in _text(told)
    changed = respondent.post(
        invited.url, data={**complete_answers(invited.wave.questionnaire.parsed, comments="A change.")}
    )
    assert changed.status_code == 410 and "A change." in _text(changed)
    api = respondent.post(
        f"/api/v1/surveys/{invited.wave.slug}/responses", json={}, headers={"Authorization": f"Bearer {invited.token}"}
    )
    assert api.status_code == 410 and "counted at its close" in api.get_json()["error"]
    db.session.expire_all()
    assert db.session.scalars(select(Response.answers)).one()["comments"] == "Counted at the close."

    # The organisation that had not answered: its link works again.
    assert _answer(admin_client.application.test_client(), late).status_code == 303
    late_response = db.session.scalars(select(Response).filter_by(organisation_id=late.organisation.id)).one()
    assert late_response.reopening == 1

    second = _text(admin_client.get(close))
    assert "1 late response came in since the survey was reopened" in second
    assert admin_client.post(close, data={"csrf_token": csrf_token(second)}).status_code == 303
    assert policymaker.get(f"/reports/{invited.wave.slug}").status_code == 200


def _adoption(client, slug: str) -> dict:
    rows = client.get(f"/api/v1/surveys/{slug}/adoption", query_string={"by": "cluster"}).get_json()["rows"]
    return {(row["cluster"], row["technology"]): row for row in rows}


def test_the_second_close_adds_late_answers_only_where_they_are_protected_on_their_own(
    make_cluster, make_invited, open_wave, quick_client_for, make_user
):
    """Two late answers in beta: the first close's figures for the clusters without late answers are published
    again unchanged, and beta's (which would differ by the late two alone) are withheld."""
    scenario = populate(make_cluster, make_invited, open_wave)
    reader = quick_client_for(make_user("policy@example.org", "policymaker"))
    publish_results(open_wave)
    first = _adoption(reader, open_wave.slug)
    assert first[("beta", "cloud")]["suppressed"] is False and first[("alpha", "cloud")]["suppressed"] is False

    reopen_wave(open_wave, clock.now(), clock.today() + timedelta(days=7))
    db.session.commit()
    questionnaire = open_wave.questionnaire.parsed
    for _ in range(2):
        late = make_invited([scenario.clusters["beta"]])
        submit_response(late.invitation, complete_answers(questionnaire), clock.now(), checked=False)
    db.session.commit()
    close_wave(open_wave, clock.now())
    db.session.commit()
    publish_results(open_wave)

    second = _adoption(reader, open_wave.slug)
    assert set(second) == set(first)
    for (cluster, technology), row in second.items():
        if cluster == "beta":
            assert row["suppressed"] is True, technology
        else:
            assert row == first[(cluster, technology)], (cluster, technology)
    total = reader.get(f"/api/v1/surveys/{open_wave.slug}/adoption").get_json()["rows"]
    assert all(row["suppressed"] for row in total)  # every technology's total holds the two late answers


def test_the_command_line_reopens_with_a_new_last_day(runner, invited):
    close_wave(invited.wave, clock.now())
    db.session.commit()
    refused = runner.invoke(args=["surveys", "reopen", invited.wave.slug, "--closes-on", "2020-01-01"])
    assert refused.exit_code == 1 and "a day that has passed" in refused.output
    later = clock.today() + timedelta(days=5)
    result = runner.invoke(args=["surveys", "reopen", invited.wave.slug, "--closes-on", str(later)])
    assert result.exit_code == 0, result.output
    assert f"{invited.wave.slug}\topen" in result.output
    again = runner.invoke(args=["surveys", "reopen", invited.wave.slug, "--closes-on", str(later)])
    assert again.exit_code == 1 and "only a closed wave can be reopened" in again.output
