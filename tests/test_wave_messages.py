"""What a respondent is told when a link takes no answers (issue 16): the right reason with its day, what became
of the organisation's answers, and, for answers that arrive too late, the questionnaire with every one of them."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from babel.dates import format_date
from sqlalchemy import select

from survey import clock
from survey.extensions import db
from survey.models import Draft, Response
from survey.operations.platform import close_wave
from tests.conftest import complete_answers, csrf_token


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _long(day) -> str:
    return format_date(day, "long", locale="en")


def test_a_closed_wave_says_when_it_closed_and_that_no_answers_are_taken(client, invited):
    close_wave(invited.wave, clock.now())
    db.session.commit()
    response = client.get(invited.url)
    page = _text(response)
    assert response.status_code == 410
    assert f"closed on {_long(clock.today())}" in page
    assert "are counted" not in page and "expired" not in page.lower()


def test_an_organisation_that_answered_is_told_its_answers_are_counted(client, invited):
    questionnaire = invited.wave.questionnaire.parsed
    form = client.get(invited.url)
    data = {**complete_answers(questionnaire), "csrf_token": csrf_token(form.data.decode()), "action": "submit"}
    assert client.post(invited.url, data=data).status_code == 303
    submitted_on = db.session.scalars(select(Response.updated_at)).one()
    close_wave(invited.wave, clock.now())
    db.session.commit()
    for url in (invited.url, invited.url + "/submitted"):
        page = _text(client.get(url))
        assert f"answers of {_long(submitted_on)} are counted" in page, url


def test_a_wave_whose_first_day_is_to_come_says_when_it_opens(client, invited):
    opens_on = clock.today() + timedelta(days=3)
    invited.wave.opens_on = opens_on
    db.session.commit()
    response = client.get(invited.url)
    page = _text(response)
    assert response.status_code == 410
    assert f"opens on {_long(opens_on)}" in page
    assert "closed" not in page and "expired" not in page.lower()
    api = client.post(
        f"/api/v1/surveys/{invited.wave.slug}/responses", json={}, headers={"Authorization": f"Bearer {invited.token}"}
    )
    assert api.status_code == 410 and opens_on.isoformat() in api.get_json()["error"]


def test_answers_sent_after_the_close_come_back_in_the_form(client, invited):
    """The respondent filled in the whole form; the wave closed before they pressed Submit."""
    questionnaire = invited.wave.questionnaire.parsed
    form = client.get(invited.url)
    typed = complete_answers(questionnaire, comments="Our plans for 2027 are not final yet.")
    typed["employees_now"] = "137"
    close_wave(invited.wave, clock.now())
    db.session.commit()
    for action in ("submit", "save"):
        response = client.post(
            invited.url, data={**typed, "csrf_token": csrf_token(form.data.decode()), "action": action}
        )
        page = _text(response)
        assert response.status_code == 410, action
        assert "could not be stored" in page and f"closed on {_long(clock.today())}" in page
        assert "Our plans for 2027 are not final yet." in page and 'value="137"' in page
        assert 'name="action"' not in page  # nothing to send it to
    assert db.session.scalars(select(Response)).all() == [] and db.session.scalars(select(Draft)).all() == []


def test_a_replaced_or_revoked_link_says_so_and_whom_to_ask(client, invited):
    from survey.operations.setup import invite_organisation

    _, newer = invite_organisation(invited.wave, invited.organisation, clock.now(), new_link=True)
    db.session.commit()
    response = client.get(invited.url)
    assert response.status_code == 410
    assert "replaced by a newer one" in _text(response) and "ask the cluster organisation" in _text(response)
    typed = complete_answers(invited.wave.questionnaire.parsed, comments="Typed into the old link.")
    posted = client.post(invited.url, data={**typed, "action": "submit"})
    assert posted.status_code == 410 and "Typed into the old link." in _text(posted)  # nothing typed is lost

    invited.invitation.revoked_at = clock.now()
    db.session.commit()
    withdrawn = client.get(f"/r/{newer}")
    assert withdrawn.status_code == 410 and "withdrawn by the cluster organisation" in _text(withdrawn)


def test_a_draft_is_shown_only_in_the_browser_that_saved_it(app, invited):
    """Two sittings in one browser continue the draft; the manager who sent the link, opening it, sees none."""
    respondent, manager = app.test_client(), app.test_client()
    page = respondent.get(invited.url)
    typed = {"comments": "Half of it, from the first sitting.", "action": "save"}
    saved = respondent.post(invited.url, data={**typed, "csrf_token": csrf_token(page.data.decode())})
    assert saved.status_code == 303
    assert "Half of it, from the first sitting." in _text(respondent.get(invited.url))  # the second sitting
    elsewhere = _text(manager.get(invited.url))
    assert "Half of it" not in elsewhere and "saved for your organisation in another web browser" in elsewhere


def test_the_country_list_puts_the_eu_and_eea_first_and_holds_only_countries(client, invited):
    page = client.get(invited.url).get_data(as_text=True)
    select = page[page.index('name="country"') : page.index("</select>", page.index('name="country"'))]
    groups = select.split("<optgroup")
    assert 'label="EU and EEA"' in groups[1] and 'label="Other countries"' in groups[2]
    first = set(re.findall(r'value="?([A-Z]{2})[">]', groups[1]))
    assert len(first) == 30 and {"ES", "NO", "IS", "LI"} <= first and "CH" not in first
    everything = re.findall(r'value="?([A-Z]{2})[">]', select)
    assert len(everything) == len(set(everything)) and "CH" in everything and "XK" in everything
    for not_a_country in ("Pseudo-Accents", "Pseudo-Bidi", "European Union", "Outlying Oceania", "Canary Islands"):
        assert not_a_country not in select


def test_the_questionnaire_says_who_is_asking_and_links_the_privacy_notice(client, invited):
    page = _text(client.get(invited.url))
    name, cluster = invited.organisation.name, invited.cluster.name
    assert f"This questionnaire is for {name}, invited by {cluster}." in page
    assert 'href="/privacy"' in page and "Questions about the survey" not in page
    notice = _text(client.get("/privacy"))
    assert "data controller is the cluster organisation that invited you" in notice
    assert "at least 5 organisations" in notice and "10 years" in notice

    invited.cluster.contact_email = "survey@alpha.example"
    invited.cluster.privacy_url = "https://alpha.example/privacy"
    db.session.commit()
    page = _text(client.get(invited.url))
    assert "Questions about the survey: survey@alpha.example." in page
    assert 'href="https://alpha.example/privacy"' in page
    close_wave(invited.wave, clock.now())
    db.session.commit()
    assert f"for {name}, invited by {cluster}" in _text(client.get(invited.url))  # the closed page says it too


def test_the_questionnaire_lists_its_sections_with_an_estimate_of_the_time(client, invited):
    questionnaire = invited.wave.questionnaire.parsed
    page = _text(client.get(invited.url))
    sections = questionnaire.sections
    assert f"{len(sections)} sections, about {questionnaire.minutes} minutes" in page
    for number, section in enumerate(sections, start=1):
        assert f'href="#section-{section.code}"' in page and f'id="section-{section.code}"' in page
        assert f"Section {number} of {len(sections)}" in page
    # The estimate adds up the questions: the default questionnaire is about five minutes, not fifteen.
    assert 4 <= questionnaire.minutes <= 8
