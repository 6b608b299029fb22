"""Role × route matrix: every rule in the URL map, for every kind of visitor, gets exactly what it should.

Visitors: an anonymous one, a respondent holding an invitation link, the manager of cluster A, the manager of
cluster B, a policymaker and an admin. All URLs point at cluster A's things, so manager B must get 404s.
A rule missing from EXPECTED fails the test: a new page must say who may use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from werkzeug.routing import Rule

from survey import clock, create_app
from survey.extensions import db
from survey.models import ApiToken, Contact, Organisation, ReminderDate, Role, User, Wave
from survey.operations.accounts import create_api_token
from survey.operations.setup import add_contact, create_wave, invite_organisation, load_questionnaire
from tests.conftest import complete_answers, csrf_token

# Who may fetch each chart, brief and pack is checked here, not the drawings: each spec is drawn once.
pytestmark = pytest.mark.usefixtures("drawings_memoised")

PERSONAS = ("anonymous", "respondent", "policymaker", "manager_b", "manager_a", "admin")
STAFF = ("policymaker", "manager_b", "manager_a", "admin")

#: Sent to the log-in page: a 302 to /login for pages, a 401 for the JSON API.
LOGIN = "login"
#: Redirected, but not to the log-in page.
REDIRECT = "redirect"


def everyone(status) -> dict:
    return dict.fromkeys(PERSONAS, status)


def logged_in(ok) -> dict:
    return {"anonymous": LOGIN, "respondent": LOGIN, **dict.fromkeys(STAFF, ok)}


def managers(ok) -> dict:
    """Managers of the cluster in the URL, and admins; a policymaker never sees one organisation's data."""
    return {"anonymous": LOGIN, "respondent": LOGIN, "policymaker": 403, "manager_b": 404, "manager_a": ok, "admin": ok}


def admins(ok) -> dict:
    return {
        "anonymous": LOGIN,
        "respondent": LOGIN,
        "policymaker": 403,
        "manager_b": 403,
        "manager_a": 403,
        "admin": ok,
    }


def unpublished() -> dict:
    """Reports of the world's wave, which is open: release control shows no reader, admins included, an open
    wave's results (a 404 saying they are published at the close). Who reads a closed wave's reports (managers
    their own clusters and the total, never another cluster) is tested in test_api_adoption and
    test_reports_pages."""
    return logged_in(404)


@dataclass(frozen=True)
class Case:
    expect: dict
    #: Form fields posted (CSRF is off in this test; see test_csrf_is_required_on_every_post).
    data: dict = field(default_factory=dict)
    query: str = ""


#: (endpoint, method) -> the cases to try. The statuses of allowed visitors are those of the request as sent:
#: 422 for a form posted empty, 303 after an action, 409 where the state does not allow it.
EXPECTED: dict[tuple[str, str], list[Case]] = {
    ("static", "GET"): [Case(everyone(200))],
    ("health.healthz", "GET"): [Case(everyone(200))],  # load balancers ask without logging in
    ("privacy.notice", "GET"): [Case(everyone(200))],  # linked from every questionnaire
    # Respondents: the link is the credential. The anonymous visitor guesses a token; the others hold the real one.
    ("respond.questionnaire", "GET"): [Case({**everyone(200), "anonymous": 404})],
    ("respond.questionnaire", "POST"): [Case({**everyone(422), "anonymous": 404})],
    ("respond.submitted", "GET"): [Case({**everyone(REDIRECT), "anonymous": 404})],
    # Everyone's own account.
    ("home.home", "GET"): [Case({**logged_in(REDIRECT), "anonymous": LOGIN, "respondent": LOGIN})],
    ("auth.login", "GET"): [Case({**logged_in(REDIRECT), "anonymous": 200, "respondent": 200})],
    ("auth.login", "POST"): [Case(everyone(422))],
    ("auth.forgotten_password", "GET"): [Case(everyone(200))],
    ("auth.forgotten_password", "POST"): [Case(everyone(422))],
    ("auth.reset_password", "GET"): [Case(everyone(410))],  # a link that is not a genuine reset link
    ("auth.reset_password", "POST"): [Case(everyone(410))],
    ("auth.logout", "POST"): [Case(logged_in(303))],
    ("auth.account", "GET"): [Case(logged_in(200))],
    ("auth.change_password", "GET"): [Case(logged_in(200))],
    ("auth.change_password", "POST"): [Case(logged_in(422))],
    ("auth.create_token", "POST"): [Case(logged_in(422))],
    ("auth.revoke_token", "POST"): [Case(logged_in(303))],
    # Cluster managers' pages.
    ("manage.index", "GET"): [Case({**managers(200), "manager_b": 200})],  # lists one's own clusters
    ("manage.cluster", "GET"): [Case(managers(200))],
    ("manage.new_member", "GET"): [Case(managers(200))],
    ("manage.new_member", "POST"): [Case(managers(422))],
    ("manage.import_csv", "GET"): [Case(managers(200))],
    ("manage.import_csv", "POST"): [Case(managers(422))],
    ("manage.member", "GET"): [Case(managers(200))],
    ("manage.edit_member", "GET"): [Case(managers(200))],
    ("manage.edit_member", "POST"): [Case(managers(422))],
    ("manage.add_contact", "POST"): [Case(managers(422))],
    ("manage.delete_contact", "POST"): [Case(managers(303))],
    ("manage.wave", "GET"): [Case(managers(200))],
    ("manage.preview", "GET"): [Case(managers(200))],
    ("manage.download_links", "POST"): [Case(managers(200), data={"members": "all"})],
    ("manage.issue_link", "POST"): [Case(managers(200))],
    ("manage.revoke", "POST"): [Case(managers(303))],
    ("manage.confirm_link", "GET"): [Case(managers(200))],  # the page before replacing or revoking
    ("manage.send", "POST"): [Case(managers(409), data={"kind": "invitation"})],  # no mail server here
    ("mailings.edit_text", "GET"): [Case(managers(200))],
    ("mailings.edit_text", "POST"): [Case(managers(422))],
    ("mailings.reset_text", "POST"): [Case(managers(303))],
    ("mailings.add_reminder", "POST"): [Case(managers(409), data={"send_on": "2099-01-01"})],  # no mail server
    ("mailings.remove_reminder", "POST"): [Case(managers(303))],
    # Admin pages.
    ("admin.index", "GET"): [Case(admins(200))],
    ("admin.users", "GET"): [Case(admins(200))],
    ("admin.new_user", "GET"): [Case(admins(200))],
    ("admin.new_user", "POST"): [Case(admins(422))],
    ("admin.edit_user", "GET"): [Case(admins(200))],
    ("admin.edit_user", "POST"): [Case(admins(422))],
    ("admin.deactivate", "POST"): [Case(admins(303))],
    ("admin.activate", "POST"): [Case(admins(303))],
    ("admin.reset_password", "POST"): [Case(admins(200))],
    ("admin.clusters", "GET"): [Case(admins(200))],
    ("admin.edit_cluster", "GET"): [Case(admins(200))],
    ("admin.edit_cluster", "POST"): [Case(admins(422))],
    ("admin.waves", "GET"): [Case(admins(200))],
    ("admin.new_wave", "GET"): [Case(admins(200))],
    ("admin.new_wave", "POST"): [Case(admins(422))],
    ("admin.edit_wave", "GET"): [Case(admins(200))],
    ("admin.edit_wave", "POST"): [Case(admins(303))],  # nothing posted: the wave as it is, saved again
    ("admin.open_survey", "GET"): [Case(admins(200))],  # the confirmation page
    ("admin.open_survey", "POST"): [Case(admins(303))],
    ("admin.close_survey", "GET"): [Case(admins(200))],
    ("admin.close_survey", "POST"): [Case(admins(303))],
    # The matrix's wave is open: nothing to reopen (tests/test_reopening.py reopens a closed one).
    ("admin.reopen_survey", "GET"): [Case(admins(409))],
    ("admin.reopen_survey", "POST"): [Case(admins(409))],
    # Reports and the JSON API (what issue 4 requires of them).
    ("reports.index", "GET"): [Case(logged_in(200))],
    ("reports.report", "GET"): [Case(unpublished()), Case(unpublished(), query="cluster=alpha")],
    ("charts.svg", "GET"): [Case(unpublished()), Case(unpublished(), query="cluster=alpha")],
    ("reports.vega_bundle", "GET"): [Case(everyone(200))],  # a JavaScript library, the same for everyone
    ("api.adoption", "GET"): [Case(unpublished()), Case(unpublished(), query="cluster=alpha")],
    # Downloads (issue 5): the report's filters and scope; the full response export for admins only.
    ("downloads.report_tables", "GET"): [Case(unpublished()), Case(unpublished(), query="cluster=alpha")],
    ("downloads.codebook", "GET"): [Case(unpublished()), Case(unpublished(), query="cluster=alpha")],
    ("charts.download", "GET"): [Case(unpublished()), Case(unpublished(), query="cluster=alpha")],
    ("downloads.brief_pdf", "GET"): [Case(unpublished()), Case(unpublished(), query="cluster=alpha")],
    ("downloads.summary_pack", "GET"): [Case(unpublished()), Case(unpublished(), query="cluster=alpha")],
    ("downloads.response_export", "GET"): [Case(admins(200))],
    ("api.openapi", "GET"): [Case(everyone(200))],
    ("api.surveys", "GET"): [Case(logged_in(200))],
    ("api.survey", "GET"): [Case(logged_in(200))],
    ("api.questionnaire", "GET"): [Case(logged_in(200))],
    ("api.challenges", "GET"): [Case(unpublished()), Case(unpublished(), query="by=cluster&cluster=alpha")],
    ("api.status", "GET"): [Case({**admins(200), "manager_a": 200, "manager_b": 200})],
    # Authorised by an invitation token in the Authorization header, never by a session or API token: 401 here.
    ("api.submit", "POST"): [Case(everyone(401))],
}


def _rules() -> list[tuple[Rule, str]]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted(
        ((rule, method) for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}),
        key=lambda pair: (pair[0].rule, pair[1]),
    )


def _param(rule: Rule, method: str):
    return pytest.param(rule, method, id=f"{method} {rule.rule}")


RULES = [_param(rule, method) for rule, method in _rules()]


@dataclass
class World:
    """Two clusters with members, an open and a draft wave, a user per role with an API token of their own."""

    wave: Wave
    draft: Wave
    org_a1: Organisation
    org_a2: Organisation
    contact_a1: Contact
    contact_a2: Contact
    respondent_token: str
    users: dict[str, User]
    spare_user: User
    api_tokens: dict[str, ApiToken]
    clients: dict = field(default_factory=dict)
    #: A reminder date of cluster A for manager A and another for the admin, each to remove their own.
    reminder_ids: dict[str, int] = field(default_factory=dict)

    def target(self, persona: str) -> tuple[Organisation, Contact]:
        """What each visitor acts on: manager A and the admin each their own member, so that one's deletion
        does not become the other's 404."""
        return (self.org_a2, self.contact_a2) if persona == "admin" else (self.org_a1, self.contact_a1)


@pytest.fixture
def world(app, make_cluster, make_user, quick_client_for) -> World:
    cluster_a = make_cluster("alpha", ecosystem="digital", country="ES")
    cluster_b = make_cluster("beta", ecosystem="health", country="BE")
    today = clock.today()
    questionnaire = load_questionnaire()
    wave = create_wave("wave-2021", "Survey 2021", questionnaire, today - timedelta(days=1), today + timedelta(days=30))
    wave.open(clock.now())
    draft = create_wave("wave-2023", "Survey 2023", questionnaire)
    organisations = []
    for name, cluster in (("Alpha One", cluster_a), ("Alpha Two", cluster_a), ("Beta One", cluster_b)):
        organisation = Organisation(
            name=name,
            country=cluster.country,
            org_type="sme",
            size_class="small",
            ecosystem=cluster.ecosystem,
            clusters=[cluster],
        )
        db.session.add(organisation)
        organisations.append(organisation)
    db.session.flush()
    org_a1, org_a2, org_b = organisations
    contact_a1 = add_contact(org_a1, "one@alpha.example", "Ana One")
    contact_a2 = add_contact(org_a2, "two@alpha.example", "Ben Two")
    add_contact(org_b, "one@beta.example", "Cem Beta")
    _, respondent_token = invite_organisation(wave, org_a1, clock.now())
    _, answered_token = invite_organisation(wave, org_a2, clock.now())
    db.session.commit()
    # One response, so that reports have a chart to draw (the matrix app shows groups of one).
    browser = app.test_client()
    page = browser.get(f"/r/{answered_token}").get_data(as_text=True)
    answers = {**complete_answers(questionnaire.parsed), "action": "submit", "csrf_token": csrf_token(page)}
    assert browser.post(f"/r/{answered_token}", data=answers).status_code == 303

    users = {
        "policymaker": make_user("policy@example.org", Role.POLICYMAKER),
        "manager_a": make_user("manager-a@example.org", Role.MANAGER, [cluster_a]),
        "manager_b": make_user("manager-b@example.org", Role.MANAGER, [cluster_b]),
        "admin": make_user("admin@example.org", Role.ADMIN),
    }
    spare = make_user("spare@example.org", Role.POLICYMAKER)
    api_tokens = {persona: create_api_token(user, "script", clock.now())[0] for persona, user in users.items()}
    db.session.commit()
    built = World(wave, draft, org_a1, org_a2, contact_a1, contact_a2, respondent_token, users, spare, api_tokens)
    built.clients = {persona: quick_client_for(user) for persona, user in users.items()}
    for days, persona in ((3, "manager_a"), (4, "admin")):
        reminder = ReminderDate(cluster_id=cluster_a.id, wave_id=wave.id, send_on=today + timedelta(days=days))
        db.session.add(reminder)
        db.session.flush()
        built.reminder_ids[persona] = reminder.id
    db.session.commit()
    built.clients["anonymous"] = app.test_client()
    built.clients["respondent"] = app.test_client()
    return built


def _values(world: World, persona: str, rule: Rule) -> dict[str, object]:
    organisation, contact = world.target(persona)
    known = {
        "filename": "style.css",
        "token": "not-a-real-token" if persona == "anonymous" else world.respondent_token,
        "cluster_slug": "alpha",
        "org_id": organisation.id,
        "contact_id": contact.id,
        "wave_slug": world.wave.slug,
        "slug": world.wave.slug,
        "name": "adoption",
        "user_id": world.spare_user.id,
        "cluster_id": world.org_a1.clusters[0].id,
        "wave_id": world.draft.id if rule.endpoint == "admin.open_survey" else world.wave.id,  # edit: not closed
        "token_id": world.api_tokens[persona].id if persona in world.api_tokens else 1,
        "kind": "reminder",
        "action": "revoke",
        "reminder_id": world.reminder_ids.get(persona, world.reminder_ids["manager_a"]),
        "fmt": (rule.defaults or {}).get("fmt"),  # downloads: one rule per file type
    }
    missing = [argument for argument in rule.arguments if argument not in known]
    if missing:
        pytest.fail(f"{rule.rule}: the matrix has no value for {', '.join(missing)}; add one to _values")
    return {argument: known[argument] for argument in rule.arguments}


def _check(response, expected, path: str) -> str | None:
    """A description of what is wrong, or None."""
    status, location = response.status_code, response.headers.get("Location", "")
    to_login = status == 302 and location.startswith("/login")
    if expected == LOGIN and path.startswith("/api/"):
        ok = status == 401
    elif expected == LOGIN:
        ok = to_login
    elif expected == REDIRECT:
        ok = status in (302, 303) and not to_login
    else:
        ok = status == expected
    return None if ok else f"expected {expected}, got {status} {location}"


@pytest.mark.parametrize(("rule", "method"), RULES)
def test_role_route_matrix(app, world, rule: Rule, method: str):
    cases = EXPECTED.get((rule.endpoint, method))
    assert cases, f"{method} {rule.rule} ({rule.endpoint}) has no expectation: say who may use it in EXPECTED"
    app.config["WTF_CSRF_ENABLED"] = False  # after logging in; CSRF has a test of its own below
    app.config["MIN_CELL_SIZE"] = 1
    wrong = []
    for case in cases:
        for persona in PERSONAS:
            path = rule.build(_values(world, persona, rule), append_unknown=False)[1]
            url = f"{path}?{case.query}" if case.query else path
            client = world.clients[persona]
            response = client.get(url) if method == "GET" else client.post(url, data=case.data)
            problem = _check(response, case.expect[persona], path)
            response.close()  # static files are streamed from an open file
            if problem:
                wrong.append(f"{persona} {method} {url}: {problem}")
    assert not wrong, "\n".join(wrong)


def test_every_rule_is_in_the_matrix():
    rules = {(rule.endpoint, method) for rule, method in _rules()}
    assert not rules - EXPECTED.keys(), f"rules without expectations: {sorted(rules - EXPECTED.keys())}"
    assert not EXPECTED.keys() - rules, f"expectations for rules that are gone: {sorted(EXPECTED.keys() - rules)}"


POST_RULES = [
    pytest.param(rule, id=rule.rule)
    for rule, method in _rules()
    if method == "POST" and not rule.rule.startswith("/api/")
]


@pytest.mark.parametrize("rule", POST_RULES)
def test_csrf_is_required_on_every_post(world, rule: Rule):
    """Security requirement 3: a POST without a CSRF token changes nothing and gets 400, even from someone
    who may use the page (the admin; the respondent on the questionnaire)."""
    persona = "respondent" if rule.endpoint.startswith("respond.") else "admin"
    path = rule.build(_values(world, persona, rule), append_unknown=False)[1]
    case = EXPECTED[(rule.endpoint, "POST")][0]
    response = world.clients[persona].post(path, data=case.data)
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
