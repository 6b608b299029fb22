"""The platform in the reader's language (issue 17): respondents answer in French and in Polish and store the
codes an English response stores; a German download has German labels and the English one's codes and numbers;
the member's next e-mail comes in the language it answered in; every page renders in each offered language."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from survey.extensions import db
from survey.languages import OFFERED
from survey.models import Organisation, Response
from tests.conftest import complete_answers, csrf_token
from tests.mailserver import send_as_manager
from tests.reports_data import populate


def _in(code: str, message: str, **values) -> str:
    """The catalogue's translation (what a reader of that language sees)."""
    with force_locale(code):
        return _(message, **values)


def _answer(client, invited, language: str | None):
    query = f"?lang={language}" if language else ""
    page = client.get(invited.url + query)
    assert page.status_code == 200
    html = unescape(page.get_data(as_text=True))
    typed = complete_answers(invited.wave.questionnaire.parsed, comments="Même texte, mêmes codes.")
    sent = client.post(invited.url + query, data={**typed, "csrf_token": csrf_token(html), "action": "submit"})
    assert sent.status_code == 303, sent.get_data(as_text=True)[:300]
    return html


def test_answers_in_french_and_in_polish_store_the_codes_of_an_english_response(app, make_invited):
    english, french, polish = make_invited(), make_invited(), make_invited()
    _answer(app.test_client(), english, None)
    for invited, code in ((french, "fr"), (polish, "pl")):
        html = _answer(app.test_client(), invited, code)
        assert f'<html lang="{code}">' in html
        spain = {"fr": "Espagne", "pl": "Hiszpania"}[code]  # country names from CLDR, in the page's language
        assert f"value=ES>{spain}<" in html
        for text in ("Artificial intelligence", "Submit answers", "Save and continue later"):
            assert _in(code, text) in html and _in(code, text) != text, (code, text)
    stored = {row.organisation_id: (row.profile, row.answers) for row in db.session.scalars(select(Response)).all()}
    assert stored[french.organisation.id] == stored[english.organisation.id] == stored[polish.organisation.id]
    languages = dict(db.session.execute(select(Organisation.id, Organisation.language)).all())
    assert languages[french.organisation.id] == "fr" and languages[polish.organisation.id] == "pl"


def _csv(client, path: str, lang: str) -> list[dict[str, str]]:
    response = client.get(path, query_string={"lang": lang})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_a_german_download_has_german_labels_and_the_codes_and_numbers_of_the_english_one(
    make_cluster, make_invited, open_wave, quick_client_for, make_user
):
    populate(make_cluster, make_invited, open_wave)
    reader = quick_client_for(make_user("policy@example.org", "policymaker"))
    path = f"/reports/{open_wave.slug}/adoption.csv"
    english, german = _csv(reader, path, "en"), _csv(reader, path, "de")
    assert len(english) == len(german) > 0
    labels = set()
    for en_row, de_row in zip(english, german, strict=True):
        for column in en_row:
            if column.endswith("_label"):
                labels.add((en_row[column], de_row[column]))
            else:
                assert en_row[column] == de_row[column], column  # codes, measures and numbers
    assert ("Artificial intelligence", "Künstliche Intelligenz") in labels
    assert (_in("en", "All clusters"), _in("de", "All clusters")) in labels
    codebook = {row["code"]: row["meaning"] for row in _csv(reader, f"/reports/{open_wave.slug}/codebook.csv", "de")}
    assert codebook["rate"] == _in("de", "Response rate: responses / invited") != "Response rate: responses / invited"


def test_the_next_e_mail_comes_in_the_language_the_member_answered_in(manager_client, members, open_wave, inbox):
    send_as_manager(manager_client, open_wave, "invitation")
    link = re.search(r"http://survey\.test(/r/\S+)", inbox.to("baker@example.org")[0].get_content()).group(1)
    respondent = manager_client.application.test_client()
    page = respondent.get(link + "?lang=fr").get_data(as_text=True)
    respondent.post(link + "?lang=fr", data={"comments": "commencé", "action": "save", "csrf_token": csrf_token(page)})
    inbox.messages.clear()
    send_as_manager(manager_client, open_wave, "reminder")
    reminder = inbox.to("baker@example.org")[0]
    assert reminder["Subject"] == _in("fr", "Reminder: %(title)s", title=open_wave.title) != "Reminder: Survey 2021"
    assert re.search(r"http://survey\.test/r/\S+\?lang=fr", reminder.get_content())
    assert inbox.to("able@example.org")[0]["Subject"] == "Reminder: Survey 2021"  # never answered: as sent


@pytest.mark.parametrize("code", [code for code in OFFERED if code != "en"])
def test_every_page_renders_in_each_offered_language(code, app, invited, client_for, make_user):
    footer = "Answers are published only as totals over at least %(k)d organisations."
    translated = _in(code, footer, k=app.config["MIN_CELL_SIZE"])
    assert translated != _in("en", footer, k=app.config["MIN_CELL_SIZE"])
    admin = client_for(make_user("admin@example.org", "admin"))
    manager = client_for(make_user("manager@example.org", "manager", [invited.cluster]))
    pages = [
        (app.test_client(), "/login"),
        (app.test_client(), "/privacy"),
        (app.test_client(), invited.url),
        (manager, "/manage/"),
        (manager, f"/manage/{invited.cluster.slug}"),
        (manager, f"/manage/{invited.cluster.slug}/waves/{invited.wave.slug}"),
        (manager, f"/manage/{invited.cluster.slug}/waves/{invited.wave.slug}/preview"),
        (admin, "/admin/"),
        (admin, "/admin/waves"),
        (admin, "/admin/users"),
        (admin, "/admin/clusters"),
        (admin, f"/admin/waves/{invited.wave.id}/close"),
    ]
    for client, path in pages:
        response = client.get(path, query_string={"lang": code}, follow_redirects=True)
        html = unescape(response.get_data(as_text=True))
        assert response.status_code == 200, (path, response.status_code)
        assert f'<html lang="{code}">' in html and translated in html, path


def test_the_brief_is_written_in_the_reader_s_language_with_its_letters(
    make_cluster, make_invited, open_wave, quick_client_for, make_user
):
    from pypdf import PdfReader

    populate(make_cluster, make_invited, open_wave)
    reader = quick_client_for(make_user("policy@example.org", "policymaker"))
    for code in ("de", "pl"):
        response = reader.get(f"/reports/{open_wave.slug}/brief.pdf", query_string={"lang": code})
        assert response.status_code == 200
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages)
        for message in ("Key figures", "Method", "Technology adoption: %(title)s"):
            expected = _in(code, message, title=open_wave.title)
            assert expected != _in("en", message, title=open_wave.title) and expected in text, (code, message)
