"""A draft wave is never shown: every page, download and API route that takes a wave answers 404 for it, for
every role that may use the route, even when the draft holds answers. The routes are read from the app's URL
map, so a route added later is checked too; the same URLs for an open wave answer something else, which shows
each URL was built right."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey import clock
from survey.access import PUBLIC, audience_of
from survey.extensions import db
from survey.models import Role, Wave, WaveState
from survey.operations.responses import submit_response
from survey.operations.setup import create_wave, invite_organisation, load_questionnaire
from tests.conftest import csrf_token, varied_answers

# Who may fetch each chart, brief and pack is checked here, not the drawings: each spec is drawn once.
pytestmark = pytest.mark.usefixtures("drawings_memoised")

#: URL arguments that name a wave.
WAVE_ARGUMENTS = {"slug", "wave_slug"}


def _wave_routes(app):
    for rule in app.url_map.iter_rules():
        if WAVE_ARGUMENTS & rule.arguments:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method


def _url(rule, wave: str, cluster: str, organisation_id: int) -> str:
    values = {
        "slug": wave,
        "wave_slug": wave,
        "cluster_slug": cluster,
        "name": "adoption",
        "org_id": organisation_id,
        "kind": "reminder",
        "reminder_id": 1,
        "action": "revoke",
    }
    _domain, path = rule.build(
        {name: values[name] for name in rule.arguments if name not in (rule.defaults or {})}, append_unknown=False
    )
    return path


@pytest.fixture
def draft_world(app, make_user, quick_client_for, make_invited, open_wave, make_cluster):
    cluster = make_cluster("alpha")
    members = [make_invited(clusters=[cluster]) for _ in range(6)]
    questionnaire = open_wave.questionnaire.parsed
    draft = create_wave("wave-draft", "Draft wave", load_questionnaire())
    # The draft holds answers too (an import, or a test run before opening): still never shown. Submissions
    # go only to open waves, so the draft is open while they are stored, and a draft again after.
    draft.state = WaveState.OPEN
    for index, member in enumerate(members):
        submit_response(member.invitation, varied_answers(questionnaire, index), clock.now())
        invitation, _ = invite_organisation(draft, member.organisation, clock.now())
        submit_response(invitation, varied_answers(questionnaire, index), clock.now())
    draft.state = WaveState.DRAFT
    open_wave.close(clock.now())  # its results are published (release control): every reader sees them
    db.session.commit()
    clients = {
        Role.ADMIN: quick_client_for(make_user("admin@example.org", "admin")),
        Role.POLICYMAKER: quick_client_for(make_user("policy@example.org", "policymaker")),
        Role.MANAGER: quick_client_for(make_user("manager@example.org", "manager", [cluster])),
    }
    return draft, cluster, members[0].organisation, clients


def _request(client, method: str, url: str, token: str):
    if method == "GET":
        return client.get(url)
    if url.startswith("/api/"):
        return client.post(url, json={}, headers={"Authorization": f"Bearer {token}"})
    return client.post(url, data={"csrf_token": token})


def test_a_draft_wave_answers_404_on_every_route_that_takes_a_wave(app, draft_world):
    draft, cluster, organisation, clients = draft_world
    routes = list(_wave_routes(app))
    assert len(routes) >= 15  # pages, charts, downloads, API, the managers' wave pages
    # A staff page's CSRF token per client, for the forms' POST routes (policymakers post none).
    tokens = {
        role: csrf_token(client.get(f"/manage/{cluster.slug}/").get_data(as_text=True))
        if role is not Role.POLICYMAKER
        else ""
        for role, client in clients.items()
    }
    checked = []
    for rule, method in routes:
        audience = audience_of(app, rule.endpoint)
        roles = list(clients) if audience == PUBLIC else [role for role in clients if role in audience]
        assert roles, f"{rule.endpoint} is open to no role"
        for role in roles:
            client = clients[role]
            csrf = tokens[role]
            bearer = rule.rule.startswith("/api/") and method == "POST"
            for wave, expect_404 in ((draft.slug, True), ("wave-2021", False)):
                if not expect_404 and "reminder_id" in rule.arguments:
                    continue  # no reminder day 1 exists in the open wave either: a 404 there proves nothing
                url = _url(rule, wave, cluster.slug, organisation.id)
                # The API takes the wave's own invitation token: for the draft, a working credential for a wave
                # nobody may see yet.
                token = (
                    _fresh_token(db.session.scalars(select(Wave).filter_by(slug=wave)).one(), organisation)
                    if bearer
                    else csrf
                )
                response = _request(client, method, url, token)
                if expect_404:
                    assert response.status_code == 404, (role, method, url, response.status_code)
                    if url.startswith("/api/"):
                        assert response.get_json()["status"] == 404
                    assert draft.title not in response.get_data(as_text=True)
                else:
                    assert response.status_code != 404, (role, method, url)
            checked.append((rule.endpoint, method, role))
    assert {endpoint for endpoint, _, _ in checked} >= {
        "reports.report",
        "charts.svg",
        "downloads.report_tables",
        "downloads.brief_pdf",
        "downloads.response_export",
        "api.adoption",
        "api.challenges",
        "api.survey",
        "api.status",
        "api.submit",
        "manage.wave",
    }


def _fresh_token(wave: Wave, organisation) -> str:
    _, token = invite_organisation(wave, organisation, clock.now())
    db.session.commit()
    return token


def test_drafts_are_neither_listed_nor_offered_for_comparison(app, draft_world):
    draft, _cluster, _organisation, clients = draft_world
    for role, client in clients.items():
        pages = ["/api/v1/surveys", "/reports/wave-2021", "/api/v1/surveys/wave-2021/adoption?by=wave"]
        if role is not Role.MANAGER:
            pages.append("/reports/")
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, (role, page)
            body = response.get_data(as_text=True)
            assert draft.slug not in body and draft.title not in body, (role, page)
    # Asking to compare with the draft is a value the page does not know, as for any unknown wave.
    assert clients[Role.ADMIN].get(f"/reports/wave-2021?wave={draft.slug}").status_code == 400
