"""Which language a reader gets (issue 17): the browser's preference, a switch on every page that needs no script
and is remembered, `<html lang>` right; a questionnaire cannot be opened with a text missing in an offered
language."""

from __future__ import annotations

import re
from html import unescape

from survey.languages import OFFERED, catalogue_path
from survey.operations.setup import create_wave, load_questionnaire
from survey.questionnaire import default_document
from tests.conftest import csrf_token


def _lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_the_browser_s_preference_chooses_among_the_offered_languages(client):
    assert _lang(client.get("/login", headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"})) == "de"
    french = client.get("/login", headers={"Accept-Language": "fr-BE"})
    assert _lang(french) == "fr" and "Mot de passe" in unescape(french.get_data(as_text=True))
    assert _lang(client.get("/login", headers={"Accept-Language": "ja, zh;q=0.8"})) == "en"  # not offered


def test_the_switch_is_a_plain_form_and_the_choice_is_remembered(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    switch = page[page.index('<form class="languages"') : page.index("</form>", page.index('<form class="languages"'))]
    assert 'method="get"' in switch and "<script" not in page
    assert 'lang="fr"' in switch and "Français" in switch and "Deutsch" in switch
    chosen = client.get("/login?lang=fr", headers={"Accept-Language": "de"})
    assert _lang(chosen) == "fr" and "lang=fr" in chosen.headers["Set-Cookie"]
    assert _lang(client.get("/privacy", headers={"Accept-Language": "de"})) == "fr"  # remembered over the browser
    assert _lang(client.get("/privacy?lang=xx")) == "fr"  # an unknown choice changes nothing


def test_the_switch_keeps_the_page_s_other_parameters(app, policymaker_client, open_wave):
    page = policymaker_client.get("/reports/?lang=de&x=1").get_data(as_text=True)
    switch = page[page.index('<form class="languages"') : page.index("</form>", page.index('<form class="languages"'))]
    assert '<input type="hidden" name="x" value="1">' in switch
    assert 'type="hidden" name="lang"' not in switch  # the choice comes from the list, not kept twice


def test_a_questionnaire_with_an_untranslated_text_cannot_be_opened(app, admin_client):
    document = default_document()
    document["version"] = 99
    document["sections"][0]["title"] = "A section title nobody has translated yet"
    wave = create_wave("wave-new", "New", load_questionnaire(document))
    from survey.extensions import db

    db.session.commit()
    url = f"/admin/waves/{wave.id}/open"
    refused = admin_client.post(url, data={"csrf_token": csrf_token(admin_client.get(url).get_data(as_text=True))})
    text = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 409
    assert "without a translation in" in text and "Français (1)" in text and "Deutsch (1)" in text
    db.session.expire_all()
    assert wave.state.value == "draft"


def test_every_offered_language_has_its_catalogue_compiled_by_the_build():
    for code in OFFERED[1:]:
        assert catalogue_path(code).with_suffix(".mo").exists(), f"{code}: run `make catalogues` (make test does)"
