"""Findings of a security probe (issue 15), each answered with a clear 4xx instead of a 500 or a leak."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from survey import clock, create_app
from survey.extensions import db
from survey.models import Cluster, DownloadLog, Organisation, Response, Role
from survey.operations.accounts import create_user
from tests.accounts import PASSWORD
from tests.conftest import complete_answers, csrf_token
from tests.test_api_responses import _body
from tests.test_api_responses import _post as _api_post

SPOOFS = {
    "right-to-left override": "Acme\u202egnp.exe",
    "zero-width space": "Ac\u200bme",
    "line separator": "Acme\u2028Bcc: all@example.org",
    "isolate": "Acme\u2067x\u2069",
}


def _responses() -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


def test_a_lone_surrogate_in_a_text_answer_is_refused_with_422(client, invited):
    """Stored on SQLite it broke responses.csv mid-download and the questionnaire page; PostgreSQL gave a 500."""
    questionnaire = invited.wave.questionnaire.parsed
    body = _body(questionnaire)
    body["comments"]["comments"] = "half a character: \ud800"
    response = _api_post(client, invited, body)
    assert response.status_code == 422
    assert "comments.comments" in response.get_json()["errors"]
    assert _responses() == 0


def test_a_400_digit_number_is_refused_with_422_by_the_api_and_the_form(client, invited):
    questionnaire = invited.wave.questionnaire.parsed
    body = _body(questionnaire)
    body["indicators"]["employees_now"] = int("9" * 400)
    response = _api_post(client, invited, body)
    assert response.status_code == 422 and "indicators.employees_now" in response.get_json()["errors"]

    page = client.get(f"/r/{invited.token}").get_data(as_text=True)
    data = {**complete_answers(questionnaire, employees_now="9" * 400), "action": "submit"}
    form = client.post(f"/r/{invited.token}", data={**data, "csrf_token": csrf_token(page)})
    assert form.status_code == 422
    assert 'value="' + "9" * 400 + '"' in form.get_data(as_text=True)  # what was typed is kept
    assert _responses() == 0


def test_a_json_body_nested_100000_deep_is_a_400(client, invited):
    response = client.post(
        f"/api/v1/surveys/{invited.wave.slug}/responses",
        data="[" * 100_000 + "]" * 100_000,
        content_type="application/json",
        headers={"Authorization": f"Bearer {invited.token}"},
    )
    assert response.status_code == 400 and response.is_json


@pytest.mark.parametrize("target", ["/reports/\r\nSet-Cookie: x=1", "/manage/\n", "/account\x00"])
def test_a_next_address_with_line_breaks_goes_home_instead_of_a_500(client, policymaker, target):
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": policymaker.email, "password": PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/reports/"
    assert "Set-Cookie: x=1" not in str(response.headers)


def test_the_outage_page_never_writes_a_password_back(tmp_path):
    folder = tmp_path / "db"
    folder.mkdir()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'survey.sqlite3'}"})
    with app.app_context():
        db.create_all()
        create_user("staff@example.org", PASSWORD, Role.ADMIN, [])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    shutil.rmtree(folder)
    with app.app_context():
        db.engine.dispose()
    response = client.post(
        "/login", data={"email": "staff@example.org", "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 503
    assert PASSWORD not in response.get_data(as_text=True)


@pytest.mark.parametrize("name", SPOOFS.values(), ids=SPOOFS.keys())
def test_names_that_pass_for_others_are_refused_for_members_contacts_and_clusters(
    manager_client, admin_client, cluster_a, name
):
    def post(client, url, data):
        page = client.get(url).get_data(as_text=True)
        return client.post(url, data={**data, "csrf_token": csrf_token(page)})

    member = {"name": name, "country": "ES", "org_type": "sme", "size_class": "small"}
    assert post(manager_client, "/manage/alpha/members/new", member).status_code == 422
    contact = {**member, "name": "Helix Labs", "contact_name": name, "contact_email": "ana@helix.example"}
    assert post(manager_client, "/manage/alpha/members/new", contact).status_code == 422
    cluster = {"slug": "spoof", "name": name, "country": "ES", "ecosystem": "digital"}
    assert post(admin_client, "/admin/clusters/new", cluster).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0
    assert db.session.scalars(select(Cluster.slug)).all() == ["alpha"]


def test_names_in_other_scripts_and_with_accents_are_kept(manager_client, cluster_a):
    page = manager_client.get("/manage/alpha/members/new").get_data(as_text=True)
    name = "Łódź Zoë Ελληνικά Ørsted"
    data = {"name": name, "country": "PL", "org_type": "sme", "size_class": "small", "csrf_token": csrf_token(page)}
    assert manager_client.post("/manage/alpha/members/new", data=data).status_code == 303
    assert db.session.scalars(select(Organisation.name)).one() == name


def test_the_invitation_links_download_is_in_the_download_audit_log(
    manager_client, manager_a, cluster_a, make_invited, open_wave
):
    make_invited([cluster_a], "Able")
    wave_page = f"/manage/alpha/waves/{open_wave.slug}"
    page = manager_client.get(wave_page).get_data(as_text=True)
    response = manager_client.post(f"{wave_page}/links", data={"members": "all", "csrf_token": csrf_token(page)})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    log = db.session.scalars(select(DownloadLog)).one()
    assert (log.user_id, log.what, log.survey) == (manager_a.id, "invitation-links.csv", open_wave.slug)
    assert log.filters == {"cluster": ["alpha"], "members": ["all"]}
    assert log.downloaded_at <= clock.now()
