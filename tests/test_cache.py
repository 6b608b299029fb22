"""The report cache (survey/cache.py): repeated reports come from it, and it is never stale.

Each test runs with the in-process store, and with Redis when TEST_REDIS_URL is set.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest

import reports.results
import survey.cache
import survey.views.reports
from survey import clock
from survey.cache import ReportCache
from survey.extensions import db
from survey.models import Organisation, Response
from survey.operations.platform import close_wave
from survey.operations.setup import invite_organisation
from tests.conftest import complete_answers, csrf_token
from tests.reports_data import populate

REDIS_URL = os.environ.get("TEST_REDIS_URL")
STORES = [
    pytest.param("memory://", id="memory"),
    pytest.param(REDIS_URL, id="redis", marks=pytest.mark.skipif(not REDIS_URL, reason="set TEST_REDIS_URL")),
]


@pytest.fixture(params=STORES)
def cache(request, app):
    prefix = f"survey-test-cache-{uuid.uuid4().hex[:12]}"
    cache = ReportCache(request.param, prefix=prefix, secret=app.config["SECRET_KEY"])
    app.extensions["report_cache"] = cache
    yield cache
    if request.param != "memory://":
        for key in cache.store.scan_iter(f"{prefix}:*"):
            cache.store.delete(key)
        cache.store.close()


@pytest.fixture
def scenario(make_cluster, make_invited, open_wave):
    return populate(make_cluster, make_invited, open_wave)


@pytest.fixture
def open_scenario(make_cluster, make_invited, open_wave):
    """The scenario with its wave still open: submissions go in; results are published at the close."""
    return populate(make_cluster, make_invited, open_wave, close=False)


@pytest.fixture
def admin(quick_client_for, make_user):
    return quick_client_for(make_user("admin@example.org", "admin"))


@pytest.fixture
def policymaker(quick_client_for, make_user):
    return quick_client_for(make_user("policy@example.org", "policymaker"))


def _total(client, slug: str = "wave-2021") -> list[dict]:
    response = client.get(f"/api/v1/surveys/{slug}/adoption")
    assert response.status_code == 200
    return response.get_json()["rows"]


def _main(html: bytes) -> str:
    text = html.decode()
    return text[text.index("<main") : text.index("</main>")]


def _refuse_to_compute(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("computed again instead of coming from the cache")

    monkeypatch.setattr(reports.results, "adoption", refuse)
    monkeypatch.setattr(survey.views.reports, "build_sections", refuse)


def test_repeated_reports_come_from_the_cache(cache, scenario, policymaker, monkeypatch):
    rows = _total(policymaker)
    page = policymaker.get("/reports/wave-2021?measure=using_or_planning")
    assert page.status_code == 200
    _refuse_to_compute(monkeypatch)
    assert _total(policymaker) == rows
    again = policymaker.get("/reports/wave-2021?measure=using_or_planning")
    assert again.status_code == 200
    assert _main(again.data) == _main(page.data)
    # The page around the cached part is still the reader's own (their CSRF token for logging out).
    assert 'name="csrf_token"' in again.data.decode()


def test_the_close_publishes_every_response_at_once(cache, open_scenario, policymaker, make_invited, client):
    scenario = open_scenario
    assert policymaker.get("/api/v1/surveys/wave-2021/adoption").status_code == 404  # open: not published
    invited = make_invited(clusters=[scenario.clusters["alpha"]])
    form = client.get(invited.url)
    questionnaire = scenario.wave.questionnaire.parsed
    data = {**complete_answers(questionnaire), "csrf_token": csrf_token(form.data.decode()), "action": "submit"}
    assert client.post(invited.url, data=data).status_code == 303
    close_wave(scenario.wave, clock.now())
    db.session.commit()
    total = db.session.query(Response).filter_by(wave_id=scenario.wave.id).count()
    assert {row["n"] for row in _total(policymaker)} == {total}
    page = policymaker.get("/reports/wave-2021").data.decode()
    assert re.search(rf"<td class=\"num\">{total}</td>", page), "the response rate table counts the new response"


def test_renaming_a_cluster_shows_at_once(cache, scenario, policymaker):
    assert "Alpha Cluster" in policymaker.get("/reports/wave-2021").data.decode()
    scenario.clusters["alpha"].name = "Renamed Alpha"
    db.session.commit()
    page = policymaker.get("/reports/wave-2021").data.decode()
    assert "Renamed Alpha" in page and "Alpha Cluster" not in page


def test_a_manager_never_gets_a_policymakers_entry(cache, scenario, policymaker, quick_client_for, make_user):
    everyone = policymaker.get("/api/v1/surveys/wave-2021/adoption?by=cluster").get_json()["rows"]
    assert {row["cluster"] for row in everyone} == {"alpha", "beta", "gamma", "delta"}
    manager = quick_client_for(make_user("m@example.org", "manager", clusters=[scenario.clusters["beta"]]))
    own = manager.get("/api/v1/surveys/wave-2021/adoption?by=cluster").get_json()["rows"]
    assert {row["cluster"] for row in own} == {"beta"}
    page = manager.get("/reports/wave-2021").data.decode()
    assert "Beta Cluster" in page and "Alpha Cluster" not in page


def test_the_admins_export_link_follows_the_reader_not_the_cached_page(
    cache, scenario, policymaker, quick_client_for, make_user
):
    """The page's main block is cached, and only admins have the full response export in its downloads."""
    admin = quick_client_for(make_user("a@example.org", "admin"))
    export = "/reports/wave-2021/responses.csv"
    assert export in _main(admin.get("/reports/wave-2021").data)
    assert export not in _main(policymaker.get("/reports/wave-2021").data)
    assert export not in _main(policymaker.get("/reports/wave-2021?measure=using_or_planning").data)
    assert export in _main(admin.get("/reports/wave-2021?measure=using_or_planning").data)


def _kept(cache: ReportCache, part: str) -> list[str]:
    """The keys in the store that contain `part`."""
    if isinstance(cache.store, survey.cache._Memory):
        keys = list(cache.store.entries)
    else:
        keys = [key.decode() for key in cache.store.scan_iter(f"{cache.prefix}:*")]
    return [key for key in keys if part in key]


def test_unknown_surveys_are_not_kept(cache, scenario, policymaker):
    """Addresses of surveys that do not exist get a 404 each time, and leave nothing in the cache to push real
    pages out."""
    for _ in range(2):
        assert policymaker.get("/reports/no-such-wave").status_code == 404
        assert policymaker.get("/api/v1/surveys/no-such-wave/adoption").status_code == 404
    assert not _kept(cache, ":r:survey:")
    assert policymaker.get("/reports/wave-2021").status_code == 200
    assert _kept(cache, ":r:survey:")


def test_an_entry_not_signed_by_the_app_is_ignored(app):
    cache = ReportCache("memory://", secret="one")
    key, _ = cache.lookup("api", [1], ("x",))
    cache.store.set(key, ReportCache("memory://", secret="another")._dump(("planted",)))
    assert cache.get_or_compute("api", [1], ("x",), lambda: "computed") == "computed"


def test_reports_still_work_when_redis_is_down(app, caplog):
    cache = ReportCache("redis://127.0.0.1:1/0", secret="s")
    assert cache.get_or_compute("api", [1], ("x",), lambda: "computed") == "computed"
    cache.bump([1])  # logged, not raised
    assert "report cache unavailable" in caplog.text


def _invited(page: bytes, cluster: str = "") -> int:
    """The "Invited" cell of a cluster's row (or of the total row) in the response rate table."""
    row = rf'<tr data-group="{cluster}"><th scope="row">[^<]*</th><td class="num">(\d+)</td>'
    found = re.search(row, page.decode())
    assert found, f"no response rate row for {cluster or 'all clusters'}"
    return int(found.group(1))


def test_a_submission_does_not_count_the_invitations_again(
    cache, open_scenario, admin, make_invited, client, monkeypatch
):
    """While a wave runs, its status (invited and answered per cluster) is read after every submission."""
    scenario = open_scenario
    invited = make_invited(clusters=[scenario.clusters["alpha"]])
    before = _status(admin)
    for module in (survey.cache, reports.results):
        monkeypatch.setattr(module, "invitations_per_cluster", _refuse)
    form = client.get(invited.url)
    data = {
        **complete_answers(scenario.wave.questionnaire.parsed),
        "csrf_token": csrf_token(form.data.decode()),
        "action": "submit",
    }
    assert client.post(invited.url, data=data).status_code == 303
    after = _status(admin)
    assert after["alpha"]["responses"] == before["alpha"]["responses"] + 1, "the status counts the new response"
    assert after["alpha"]["invited"] == before["alpha"]["invited"]


def _status(client) -> dict[str, dict]:
    response = client.get("/api/v1/surveys/wave-2021/status")
    assert response.status_code == 200
    return {row["cluster"]: row for row in response.get_json()["clusters"]}


def test_new_invitations_and_members_are_counted_at_once(cache, scenario, policymaker):
    beta = scenario.clusters["beta"]
    organisation = Organisation(
        name="Newcomer",
        country=beta.country,
        org_type="sme",
        size_class="small",
        ecosystem=beta.ecosystem,
        clusters=[beta],
    )
    db.session.add(organisation)
    db.session.commit()
    before = policymaker.get("/reports/wave-2021").data
    invite_organisation(scenario.wave, organisation, clock.now())
    db.session.commit()
    page = policymaker.get("/reports/wave-2021").data
    assert (_invited(page, "beta"), _invited(page)) == (_invited(before, "beta") + 1, _invited(before) + 1)
    # An organisation invited to the wave joins another cluster: that cluster's invited count follows.
    joining = scenario.clusters["gamma"]
    organisation.clusters.append(joining)
    db.session.commit()
    again = policymaker.get("/reports/wave-2021").data
    assert _invited(again, "gamma") == _invited(page, "gamma") + 1
    assert _invited(again) == _invited(page)


def _refuse(*args, **kwargs):
    raise AssertionError("counted the invitations again instead of taking them from the cache")
