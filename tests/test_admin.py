"""Admin pages: users and roles, clusters, survey waves."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from survey import clock
from survey.extensions import db
from survey.models import Cluster, Role, User, Wave, WaveState
from survey.operations.setup import create_wave, load_questionnaire
from tests.accounts import log_in
from tests.conftest import csrf_token


def _post(client, url: str, data: dict | None = None, page: str | None = None):
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(html)})


def _shown_password(response) -> str:
    return re.search(r'id="password"[^>]*value="([^"]+)"', response.get_data(as_text=True)).group(1)


def _user(email: str) -> User:
    return db.session.scalars(select(User).filter_by(email=email)).one()


# Users


def test_create_a_manager_who_can_then_log_in(admin_client, cluster_a, cluster_b):
    response = _post(
        admin_client,
        "/admin/users/new",
        {"email": "New.Manager@Example.org", "role": "manager", "clusters": [str(cluster_a.id)]},
    )
    assert response.status_code == 200
    password = _shown_password(response)
    assert len(password) >= 16
    user = _user("new.manager@example.org")
    assert user.role is Role.MANAGER and [c.slug for c in user.clusters] == ["alpha"]
    assert password not in user.password_hash
    browser = admin_client.application.test_client()
    assert log_in(browser, "new.manager@example.org", password).headers["Location"] == "/manage/"
    assert browser.get("/manage/").headers["Location"].endswith("/account/password")  # their own password first
    page = browser.get("/account/password").get_data(as_text=True)
    own = "the manager's own password"
    data = {"current": password, "new": own, "confirm": own, "csrf_token": csrf_token(page)}
    assert browser.post("/account/password", data=data).status_code == 303
    assert browser.get("/manage/beta/").status_code == 404


def test_user_form_checks_its_input(admin_client, admin, cluster_a):
    no_cluster = _post(admin_client, "/admin/users/new", {"email": "m@example.org", "role": "manager"})
    assert no_cluster.status_code == 422
    assert "Choose at least one cluster for a cluster manager." in no_cluster.get_data(as_text=True)
    taken = _post(admin_client, "/admin/users/new", {"email": "ADMIN@example.org", "role": "policymaker"})
    assert taken.status_code == 422 and "There is already an account" in taken.get_data(as_text=True)
    bad = _post(admin_client, "/admin/users/new", {"email": "nope", "role": "emperor"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'id="email-error"' in html and 'id="role-error"' in html
    assert db.session.scalar(select(User.id).filter_by(email="m@example.org")) is None


def test_change_a_role_and_clusters(admin_client, manager_a, cluster_a, cluster_b):
    url = f"/admin/users/{manager_a.id}"
    assert (
        _post(admin_client, url, {"role": "manager", "clusters": [str(cluster_a.id), str(cluster_b.id)]}).status_code
        == 303
    )
    db.session.expire_all()
    assert [c.slug for c in manager_a.clusters] == ["alpha", "beta"]
    assert _post(admin_client, url, {"role": "policymaker"}).status_code == 303
    db.session.expire_all()
    assert manager_a.role is Role.POLICYMAKER and manager_a.clusters == []


def test_an_admin_cannot_demote_or_deactivate_themself(admin_client, admin):
    demote = _post(admin_client, f"/admin/users/{admin.id}", {"role": "policymaker"})
    assert demote.status_code == 422 and "You cannot change your own role" in demote.get_data(as_text=True)
    deactivate = _post(admin_client, f"/admin/users/{admin.id}/deactivate", page="/admin/users")
    assert deactivate.status_code == 409
    db.session.expire_all()
    assert admin.role is Role.ADMIN and admin.active


def test_deactivate_and_reactivate(admin_client, client_for, policymaker):
    browser = client_for(policymaker)
    assert _post(admin_client, f"/admin/users/{policymaker.id}/deactivate", page="/admin/users").status_code == 303
    assert browser.get("/account").status_code == 302
    assert log_in(browser, policymaker.email).status_code == 422
    assert "Deactivated" in admin_client.get("/admin/users").get_data(as_text=True)
    assert _post(admin_client, f"/admin/users/{policymaker.id}/activate", page="/admin/users").status_code == 303
    assert log_in(browser, policymaker.email).status_code == 303


def test_a_new_password_ends_the_users_sessions(admin_client, client_for, policymaker):
    browser = client_for(policymaker)
    response = _post(admin_client, f"/admin/users/{policymaker.id}/password", page="/admin/users")
    assert response.status_code == 200
    password = _shown_password(response)
    assert browser.get("/account").status_code == 302
    fresh = admin_client.application.test_client()
    assert log_in(fresh, policymaker.email).status_code == 422
    assert log_in(fresh, policymaker.email, password).status_code == 303


# Clusters


def test_create_and_edit_a_cluster(admin_client, cluster_a):
    bad = _post(
        admin_client,
        "/admin/clusters/new",
        {"slug": "Not A Slug", "name": "", "country": "ZZ", "nuts2": "x", "ecosystem": "space"},
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    for field in ("slug", "name", "country", "nuts2", "ecosystem"):
        assert f'id="{field}-error"' in html
    taken = _post(
        admin_client,
        "/admin/clusters/new",
        {"slug": "alpha", "name": "Another", "country": "ES", "ecosystem": "digital"},
    )
    assert taken.status_code == 422 and "already has the short name alpha" in taken.get_data(as_text=True)

    created = _post(
        admin_client,
        "/admin/clusters/new",
        {"slug": "gamma-health", "name": "Gamma Health", "country": "FR", "nuts2": "frk2", "ecosystem": "health"},
    )
    assert created.status_code == 303
    cluster = db.session.scalars(select(Cluster).filter_by(slug="gamma-health")).one()
    assert (cluster.name, cluster.country, cluster.nuts2) == ("Gamma Health", "FR", "FRK2")
    page = admin_client.get(f"/admin/clusters/{cluster.id}").get_data(as_text=True)
    assert 'value="Gamma Health"' in page
    assert (
        _post(
            admin_client,
            f"/admin/clusters/{cluster.id}",
            {"slug": "gamma-health", "name": "Gamma Cluster", "country": "FR", "ecosystem": "health"},
        ).status_code
        == 303
    )
    db.session.expire_all()
    assert cluster.name == "Gamma Cluster" and cluster.nuts2 is None


# Waves


def test_create_a_wave_from_the_previous_waves_questionnaire(admin_client, open_wave):
    page = unescape(admin_client.get("/admin/waves/new").get_data(as_text=True))
    assert "As in Survey 2021 (version" in page
    response = _post(
        admin_client,
        "/admin/waves/new",
        {
            "slug": "wave-2023",
            "title": "Survey 2023",
            "source": str(open_wave.id),
            "opens_on": "2023-03-01",
            "closes_on": "2023-06-30",
        },
    )
    assert response.status_code == 303
    wave = db.session.scalars(select(Wave).filter_by(slug="wave-2023")).one()
    assert wave.state is WaveState.DRAFT and wave.questionnaire_id == open_wave.questionnaire_id
    assert str(wave.opens_on) == "2023-03-01" and str(wave.closes_on) == "2023-06-30"


def test_wave_form_checks_its_input(admin_client, open_wave):
    response = _post(
        admin_client,
        "/admin/waves/new",
        {
            "slug": open_wave.slug,
            "title": "Again",
            "source": "default",
            "opens_on": "2024-05-01",
            "closes_on": "2024-04-01",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The last day cannot be before the first day." in html
    garbled = _post(
        admin_client, "/admin/waves/new", {"slug": "w", "title": "T", "source": "999", "opens_on": "tomorrow"}
    )
    assert garbled.status_code == 422
    assert 'id="source-error"' in garbled.get_data(as_text=True) and 'id="opens_on-error"' in garbled.get_data(
        as_text=True
    )
    taken = _post(admin_client, "/admin/waves/new", {"slug": open_wave.slug, "title": "Again", "source": "default"})
    assert taken.status_code == 422 and "already has the short name" in taken.get_data(as_text=True)


def test_open_and_close_a_wave(admin_client, invited):
    draft = create_wave("wave-draft", "Draft wave", load_questionnaire())
    db.session.commit()
    assert _post(admin_client, f"/admin/waves/{draft.id}/open", page="/admin/waves").status_code == 303
    assert _post(admin_client, f"/admin/waves/{draft.id}/open", page="/admin/waves").status_code == 409
    db.session.expire_all()
    assert draft.state is WaveState.OPEN and draft.opened_at is not None

    assert _post(admin_client, f"/admin/waves/{invited.wave.id}/close", page="/admin/waves").status_code == 303
    assert admin_client.application.test_client().get(invited.url).status_code == 410
    assert _post(admin_client, f"/admin/waves/{invited.wave.id}/close", page="/admin/waves").status_code == 409
    assert _post(admin_client, "/admin/waves/9999/close", page="/admin/waves").status_code == 404
    db.session.expire_all()
    assert invited.wave.state is WaveState.CLOSED and invited.wave.closed_at <= clock.now()


def test_closing_asks_first_and_says_what_it_will_do(admin_client, invited, make_invited):
    from survey.operations.responses import save_draft
    from tests.conftest import complete_answers

    waiting = make_invited()
    save_draft(waiting.invitation, complete_answers(waiting.wave.questionnaire.parsed), clock.now())
    db.session.commit()
    url = f"/admin/waves/{invited.wave.id}/close"
    assert f'href="{url}"' in admin_client.get("/admin/waves").get_data(as_text=True)
    page = admin_client.get(url)
    text = unescape(page.get_data(as_text=True))
    assert page.status_code == 200
    assert "1 organisation has saved answers without submitting them: they will not be counted." in text
    assert "0 responses are counted, from 2 invited organisations." in text
    assert f'action="{url}"' in text  # the button that closes, in a form that needs no script
    db.session.expire_all()
    assert invited.wave.state is WaveState.OPEN  # asking changed nothing
    assert admin_client.post(url, data={"csrf_token": csrf_token(text)}).status_code == 303
    db.session.expire_all()
    assert invited.wave.state is WaveState.CLOSED


def test_extending_the_last_day_brings_the_links_back(admin_client, invited):
    from datetime import timedelta

    respondent = admin_client.application.test_client()
    invited.wave.closes_on = clock.today() - timedelta(days=1)
    db.session.commit()
    assert "Past its last day" in unescape(admin_client.get("/admin/waves").get_data(as_text=True))
    assert respondent.get(invited.url).status_code == 410
    later = clock.today() + timedelta(days=14)
    url = f"/admin/waves/{invited.wave.id}/edit"
    data = {"title": "Survey 2021, extended", "opens_on": str(invited.wave.opens_on), "closes_on": str(later)}
    assert _post(admin_client, url, data).status_code == 303
    db.session.expire_all()
    assert invited.wave.closes_on == later and invited.wave.title == "Survey 2021, extended"
    assert respondent.get(invited.url).status_code == 200
    wrong = _post(admin_client, url, {**data, "closes_on": str(invited.wave.opens_on - timedelta(days=1))})
    assert wrong.status_code == 422 and "cannot be before the first day" in unescape(wrong.get_data(as_text=True))

    invited.wave.close(clock.now())
    db.session.commit()
    assert admin_client.get(url).status_code == 409


def test_a_wave_whose_first_day_is_to_come_is_listed_as_scheduled(admin_client, invited):
    from datetime import timedelta

    invited.wave.opens_on = clock.today() + timedelta(days=5)
    db.session.commit()
    row = unescape(admin_client.get("/admin/waves").get_data(as_text=True))
    assert "<td>Scheduled</td>" in row
