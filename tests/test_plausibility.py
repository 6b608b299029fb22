"""Checks between answers (forms/plausibility.py): a NUTS 2 region outside the chosen country is refused with a
clear message; figures that are unusual together get a warning the respondent confirms, in the form and in the API."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from forms.plausibility import nuts2_regions, region_problem
from survey.extensions import db
from survey.models import Response
from tests.conftest import complete_answers, csrf_token


def _submit(client, invited, **answers):
    form = client.get(invited.url)
    data = {
        **complete_answers(invited.wave.questionnaire.parsed, **answers),
        "csrf_token": csrf_token(form.data.decode()),
        "action": "submit",
    }
    return client.post(invited.url, data=data)


def _stored() -> list[Response]:
    return db.session.scalars(select(Response)).all()


def test_the_region_list_is_nuts_2_by_country():
    regions = nuts2_regions()
    assert len(regions["DE"]) == 38 and "DE21" in regions["DE"] and "ES21" in regions["ES"]
    assert "GR" in regions and "EL" not in regions  # ISO codes, as the country question has them
    assert all(
        len(code) == 4 and code[:2] == {"GR": "EL"}.get(country, country)
        for country in regions
        for code in regions[country]
    )
    assert region_problem("ES", "ES21") is None and region_problem("ES", None) is None


@pytest.mark.parametrize(
    "country, region, message",
    [("ES", "DE21", "not a NUTS 2 region"), ("ES", "XX99", "not a NUTS 2 region"), ("US", "DE21", "no NUTS 2 regions")],
)
def test_a_region_outside_the_country_is_refused_and_the_answers_stay(client, invited, country, region, message):
    response = _submit(client, invited, country=country, region=region, comments="Everything else is right.")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert message in page and "Everything else is right." in page
    assert _stored() == []


def test_unusual_figures_are_taken_once_confirmed(client, invited):
    response = _submit(client, invited, size_class="micro", employees_now="5000", employees_12m_ago="4000000")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and _stored() == []
    assert "You chose “Fewer than 10” persons employed, but 5,000 persons employed now." in page
    assert "Persons employed went from 4,000,000 to 5,000 in twelve months." in page
    assert 'name="confirm_unusual"' in page and 'value="5000"' in page
    confirmed = _submit(
        client, invited, size_class="micro", employees_now="5000", employees_12m_ago="4000000", confirm_unusual="y"
    )
    assert confirmed.status_code == 303
    assert [response.answers["employees_now"] for response in _stored()] == [5000]


def test_usual_figures_need_no_confirmation(client, invited):
    assert (
        _submit(client, invited, size_class="medium", employees_now="120", employees_12m_ago="100").status_code == 303
    )


def test_a_save_takes_unusual_figures_without_asking(client, invited):
    form = client.get(invited.url)
    data = {
        "employees_now": "5000",
        "size_class": "micro",
        "action": "save",
        "csrf_token": csrf_token(form.data.decode()),
    }
    assert client.post(invited.url, data=data).status_code == 303


def test_the_api_returns_the_warnings_and_takes_a_confirmation(client, invited):
    questionnaire = invited.wave.questionnaire.parsed
    answers = complete_answers(questionnaire, size_class="large", employees_now="3", employees_12m_ago="3")
    body: dict = {"profile": {}, "adoption": {}, "challenges": {}, "indicators": {}, "comments": {}}
    for code, item in questionnaire.items.items():
        body[item.section][code] = int(answers[code]) if item.type == "integer" else answers[code]
    headers = {"Authorization": f"Bearer {invited.token}"}
    url = f"/api/v1/surveys/{invited.wave.slug}/responses"
    refused = client.post(url, json=body, headers=headers)
    assert refused.status_code == 422
    assert list(refused.get_json()["warnings"]) == ["indicators.employees_now"]
    assert client.post(url, json={**body, "confirm_unusual": True}, headers=headers).status_code == 201
    assert client.post(url, json={**body, "confirm_unusual": "yes"}, headers=headers).status_code == 400
