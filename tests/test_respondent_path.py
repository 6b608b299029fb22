"""The respondent's path through the real app: link -> questionnaire -> draft -> submission -> change."""

from __future__ import annotations

import copy
import html as html_lib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from survey import clock
from survey.extensions import db
from survey.models import Draft, Response, Tally
from survey.models.tallies import RESPONSES_ITEM
from survey.operations.setup import create_wave, load_questionnaire
from survey.questionnaire import default_document
from tests.conftest import complete_answers, csrf_token

# The dialect matters here: run on PostgreSQL too (tests/conftest.py).
pytestmark = pytest.mark.both_databases


def _questionnaire(invited):
    return invited.wave.questionnaire.parsed


def _post(client, invited, data, action="submit", token=None):
    page = client.get(invited.url)
    assert page.status_code == 200
    form = {**data, "action": action, "csrf_token": token or csrf_token(page.get_data(as_text=True))}
    return client.post(invited.url, data=form)


def _responses() -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


def _total(item: str, answer: str) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(Tally.n), 0)).where(
            Tally.grain == "total", Tally.item == item, Tally.answer == answer
        )
    )


def _selected(html: str, name: str) -> list[str]:
    """Values of the selected options of the drop-down list called `name`."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r'<option selected value="?([^"> ]*)', select.group(1))


def _checked(html: str, name: str) -> list[str]:
    """Values of the checked inputs called `name`."""
    values = []
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and "checked" in tag:
            values.append(re.search(r'value="([^"]*)"', tag).group(1))
    return values


def test_link_shows_every_technology_as_a_fieldset_with_labelled_radios(client, invited):
    html = client.get(invited.url).get_data(as_text=True)
    questionnaire = _questionnaire(invited)
    assert len(questionnaire.technologies) == 16
    for tech in questionnaire.technologies:
        fieldset = re.search(rf'<fieldset[^>]*id="{tech.code}".*?</fieldset>', html, re.S)
        assert fieldset, f"no fieldset for {tech.code}"
        assert f"<legend>{tech.label}" in fieldset.group(0)
        for index, choice in enumerate(questionnaire.adoption_scale):
            assert f'<label for="{tech.code}-{index}">{choice.label}</label>' in html_lib.unescape(fieldset.group(0))
    assert "Which of the following technologies is your organisation using or planning to use?" in html
    assert "<script" not in html  # works with JavaScript off


def test_profile_is_prefilled_from_the_organisation(client, invited):
    html = client.get(invited.url).get_data(as_text=True)
    assert _checked(html, "size_class") == ["small"]
    assert _checked(html, "org_type") == ["sme"]
    assert re.search(r'<option selected value="?ES"?>|<option value="?ES"? selected', html)


def test_submit_stores_one_response_and_counts_it(client, invited):
    data = complete_answers(_questionnaire(invited), cloud="using", ai="planning", size_class="small")
    response = _post(client, invited, data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{invited.url}/submitted")
    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you: your answers are submitted" in confirmation

    stored = db.session.scalars(select(Response)).one()
    assert stored.answers["cloud"] == "using" and stored.answers["ai"] == "planning"
    assert stored.size_class == "small" and [c.id for c in stored.clusters] == [invited.cluster.id]
    assert _total(RESPONSES_ITEM, "") == 1
    assert _total("cloud", "using") == 1 and _total("ai", "planning") == 1


def test_draft_is_kept_and_resumed_then_submitted(client, invited):
    questionnaire = _questionnaire(invited)
    partial = {"cloud": "using", "ai": "planning", "comments": "Half done"}
    saved = _post(client, invited, partial, action="save")
    assert saved.status_code == 303
    assert _responses() == 0 and _total(RESPONSES_ITEM, "") == 0  # a draft counts nowhere

    # Resuming later, in the same browser, through the same link (another browser does not see the draft:
    # tests/test_wave_messages.py).
    html = client.get(invited.url).get_data(as_text=True)
    assert "answers saved earlier" in html
    assert _checked(html, "cloud") == ["using"] and _checked(html, "ai") == ["planning"]
    assert "Half done" in html

    complete = complete_answers(questionnaire, cloud="using", ai="planning")
    assert _post(client, invited, complete).status_code == 303
    assert _responses() == 1
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0


def test_changing_answers_replaces_them_and_keeps_one_response(client, invited):
    questionnaire = _questionnaire(invited)
    assert _post(client, invited, complete_answers(questionnaire, cloud="using")).status_code == 303
    first = db.session.scalars(select(Response)).one()
    submitted_at = first.submitted_at

    html = client.get(invited.url).get_data(as_text=True)
    assert "has submitted its answers" in html
    assert _checked(html, "cloud") == ["using"]

    assert _post(client, invited, complete_answers(questionnaire, cloud="not_planned")).status_code == 303
    db.session.expire_all()
    again = db.session.scalars(select(Response)).one()
    assert again.id == first.id and again.submitted_at == submitted_at
    assert again.answers["cloud"] == "not_planned"
    assert _total(RESPONSES_ITEM, "") == 1
    assert _total("cloud", "using") == 0 and _total("cloud", "not_planned") == 1


def test_missing_answers_come_back_with_a_message_at_each_field(client, invited):
    questionnaire = _questionnaire(invited)
    data = complete_answers(questionnaire, comments="Keep me")
    del data["cloud"], data["supply_chains"], data["size_class"]
    response = _post(client, invited, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for code in ("cloud", "supply_chains", "size_class"):
        assert f'id="{code}-error"' in html, f"no message at {code}"
        assert f'href="#{code}"' in html  # linked from the error summary
    assert _checked(html, "ai") == [data["ai"]]  # what was typed is kept
    assert "Keep me" in html
    assert _responses() == 0


def test_unknown_answer_code_is_refused(client, invited):
    data = complete_answers(_questionnaire(invited), cloud="sometimes")
    response = _post(client, invited, data)
    assert response.status_code == 422
    assert 'id="cloud-error"' in response.get_data(as_text=True)
    assert _responses() == 0 and _total(RESPONSES_ITEM, "") == 0


def test_overlong_text_is_refused_and_kept(client, invited):
    long_text = "x" * 10_000
    response = _post(client, invited, complete_answers(_questionnaire(invited), comments=long_text))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="comments-error"' in html
    assert long_text in html
    assert _responses() == 0


def test_control_characters_are_refused(client, invited):
    response = _post(client, invited, complete_answers(_questionnaire(invited), comments="bell\x07 and null\x00"))
    assert response.status_code == 422
    assert 'id="comments-error"' in response.get_data(as_text=True)
    assert _responses() == 0


def test_control_characters_in_a_draft_are_refused_too(client, invited):
    response = _post(client, invited, {"comments": "esc\x1b[31m"}, action="save")
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0


def test_forged_csrf_token_gets_the_form_back_and_stores_nothing(client, invited):
    data = complete_answers(_questionnaire(invited), comments="Typed before the error")
    response = _post(client, invited, data, token="forged-token")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "could not be saved" in html
    assert "Typed before the error" in html and _checked(html, "cloud") == [data["cloud"]]
    assert _responses() == 0


def test_every_kind_of_answer_is_kept_when_one_is_refused(client, invited):
    questionnaire = _questionnaire(invited)
    data = complete_answers(
        questionnaire,
        country="BE",
        ecosystem="health",
        org_type="university",
        ai="planning",
        value_chain_changes=["new_suppliers", "reshoring"],
        employees_now="12",
        comments='Line one\r\n<b>"Quoted" & kept</b>',
    )
    del data["cloud"]
    html = _post(client, invited, data).get_data(as_text=True)
    assert _selected(html, "country") == ["BE"] and _selected(html, "ecosystem") == ["health"]
    assert _checked(html, "org_type") == ["university"] and _checked(html, "ai") == ["planning"]
    assert _checked(html, "value_chain_changes") == ["new_suppliers", "reshoring"]
    assert _checked(html, "cloud") == []
    assert re.search(r'<input[^>]*name="employees_now"[^>]*value="12"', html)
    assert "Line one\r\n&lt;b&gt;&#34;Quoted&#34; &amp; kept&lt;/b&gt;</textarea>" in html


def test_errors_are_tied_to_their_fields(client, invited):
    data = complete_answers(_questionnaire(invited), employees_now="many")
    del data["cloud"], data["ecosystem"]
    html = _post(client, invited, data).get_data(as_text=True)
    cloud = re.search(r'<fieldset[^>]*id="cloud"[^>]*>.*?</fieldset>', html, re.S).group(0)
    assert 'aria-describedby="cloud-help cloud-error"' in cloud and 'id="cloud-error"' in cloud
    assert all('aria-invalid="true"' in tag for tag in re.findall(r"<input[^>]*>", cloud))
    assert 'aria-describedby="ecosystem-error" aria-invalid="true" id="ecosystem"' in html
    assert re.search(r'<input aria-describedby="employees_now-error" aria-invalid="true"[^>]*id="employees_now"', html)
    ai = re.search(r'<fieldset[^>]*id="ai"[^>]*>', html).group(0)
    assert 'aria-describedby="ai-help"' in ai  # answered: its hint only, no error


def test_questionnaire_texts_are_escaped(client, make_invited):
    """Questionnaire texts are data: markup in them is shown as text, never obeyed."""
    document = copy.deepcopy(default_document())
    document["version"] += 100
    markup = '<img src=x onerror="alert(1)">'
    document["title"] += markup
    for section in document["sections"]:
        section["title"] += markup
        for choice in section.get("scale") or []:
            choice["label"] += markup
        for item in section["items"]:
            item["label"] += markup
            item["help"] = item.get("help", "") + markup
            for choice in item.get("choices") or []:
                choice["label"] += markup
    today = clock.today()
    wave = create_wave("marked-up", "Marked up", load_questionnaire(document), today, today + timedelta(days=9))
    wave.open(clock.now())
    invited = make_invited(wave=wave)

    page = client.get(invited.url).get_data(as_text=True)
    refused = _post(client, invited, {"employees_now": "many"}, action="save").get_data(as_text=True)
    for html in (page, refused):
        assert "<img" not in html
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert 'href="#employees_now">Persons employed now&lt;img' in refused  # the error summary too


def test_bad_numbers_are_refused_with_the_typed_value_kept(client, invited):
    data = complete_answers(_questionnaire(invited), employees_now="about ten", employees_12m_ago="-3")
    response = _post(client, invited, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="employees_now-error"' in html and 'id="employees_12m_ago-error"' in html
    assert 'value="about ten"' in html


def test_none_of_these_cannot_be_combined(client, invited):
    data = complete_answers(_questionnaire(invited), value_chain_changes=["none", "reshoring"])
    response = _post(client, invited, data)
    assert response.status_code == 422
    assert 'id="value_chain_changes-error"' in response.get_data(as_text=True)


def test_unknown_link_is_a_404_page(client, invited):
    response = client.get("/r/not-a-real-token")
    assert response.status_code == 404
    assert "invitation link is not known" in response.get_data(as_text=True)
    assert client.post("/r/not-a-real-token", data={}).status_code == 404


def test_link_expires_after_the_closing_date(client, invited):
    invited.wave.closes_on = clock.today() - timedelta(days=1)
    db.session.commit()
    assert client.get(invited.url).status_code == 410


def test_revoked_or_replaced_link_no_longer_works(client, invited):
    from survey.operations.setup import invite_organisation

    _, same = invite_organisation(invited.wave, invited.organisation, clock.now())
    assert same == invited.token  # asking again gives the working link again
    _, new_token = invite_organisation(invited.wave, invited.organisation, clock.now(), new_link=True)
    db.session.commit()
    assert client.get(invited.url).status_code == 410  # "replaced by a newer one"
    assert client.get(f"/r/{new_token}").status_code == 200

    invited.invitation.revoked_at = clock.now()
    db.session.commit()
    assert client.get(f"/r/{new_token}").status_code == 410


def test_pages_send_security_headers(client, invited):
    response = client.get(invited.url)
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_manager_with_a_reissued_link_neither_sees_nor_changes_submitted_answers(app, client, invited):
    """Submitted answers belong to the organisation: the browser that sent them keeps their key; anyone else
    with a link to the same invitation (a manager's re-issued link, a forwarded e-mail) sees a receipt only."""
    from survey.operations.invitations import invitation_link
    from survey.operations.setup import invite_organisation

    questionnaire = invited.wave.questionnaire.parsed
    secret = "only our own team should read this"
    page = client.get(f"/r/{invited.token}").get_data(as_text=True)
    data = {**complete_answers(questionnaire, comments=secret), "action": "submit", "csrf_token": csrf_token(page)}
    assert client.post(f"/r/{invited.token}", data=data).status_code == 303
    assert secret in client.get(f"/r/{invited.token}").get_data(as_text=True)  # the respondent's own browser

    _, reissued = invite_organisation(invited.wave, invited.organisation, clock.now())
    db.session.commit()
    path = invitation_link(reissued).removeprefix("http://survey.test")
    manager = app.test_client()
    receipt = manager.get(path)
    assert receipt.status_code == 200
    body = receipt.get_data(as_text=True)
    assert secret not in body and "have been received" in body and 'name="comments"' not in body
    token = reissued
    # A valid CSRF token of the manager's own session, from any form of the site.
    own_token = csrf_token(manager.get("/login").get_data(as_text=True))
    changed = {**data, "comments": "changed by the manager", "csrf_token": own_token}
    for action in ("submit", "save"):
        posted = manager.post(f"/r/{token}", data={**changed, "action": action})
        assert posted.status_code == 409
    stored = db.session.scalars(select(Response)).one()
    db.session.refresh(stored)
    assert stored.answers["comments"] == secret
