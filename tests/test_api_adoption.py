"""GET /api/v1/surveys/<slug>/adoption: every number against a recomputation from the raw answers."""

from __future__ import annotations

import pytest

from survey import clock
from survey.extensions import db
from survey.models import Response
from survey.operations.responses import submit_response
from tests.conftest import varied_answers
from tests.reports_data import ANSWERS, Reference, populate, raw_responses

# The dialect matters here: run on PostgreSQL too (tests/conftest.py).
pytestmark = pytest.mark.both_databases

ROW_KEYS = {
    "technology",
    "n",
    "using",
    "planning",
    "not_planned",
    "dont_know",
    "share_using",
    "share_planning",
    "ci_using",
    "suppressed",
}


@pytest.fixture
def client(quick_client_for, make_user):
    """Reports are for people with an account; a policymaker sees every cluster."""
    return quick_client_for(make_user("policy@example.org", "policymaker"))


@pytest.fixture
def scenario(make_cluster, make_invited, open_wave):
    return populate(make_cluster, make_invited, open_wave)


def _get(client, slug: str, **params):
    response = client.get(f"/api/v1/surveys/{slug}/adoption", query_string=params)
    return response.status_code, response.get_json()


def _technologies(scenario) -> list[str]:
    return [tech.code for tech in scenario.wave.questionnaire.parsed.technologies]


def _check_rows(rows, expected, by, group_value):
    """Every row equals the recomputation; withheld rows hold no numbers; no group is missing or extra."""
    seen = set()
    for row in rows:
        group = None if by is None else row[by]
        key = (group_value(group) if by else None, row["technology"])
        assert key in expected, f"unexpected row {key}"
        seen.add(key)
        want = expected[key]
        assert set(row) == ROW_KEYS | ({by} if by else set())
        assert row["suppressed"] is want["suppressed"], key
        if want["suppressed"]:
            assert all(row[name] is None for name in ROW_KEYS - {"technology", "suppressed"}), key
            continue
        assert row["n"] == want["n"]
        for code in ANSWERS:
            assert row[code] == want[code], (key, code)
        assert row["share_using"] == pytest.approx(want["shares"]["using"], abs=5e-5)
        assert row["share_planning"] == pytest.approx(want["shares"]["planning"], abs=5e-5)
        assert row["ci_using"] == pytest.approx(list(want["ci_using"]), abs=5e-5)
    assert seen == set(expected)


def test_totals_per_technology_match_the_raw_answers(client, scenario):
    status, body = _get(client, "wave-2021")
    assert status == 200
    assert body["survey"] == "wave-2021" and body["min_cell"] == 5 and body["by"] is None
    reference = Reference(*raw_responses())
    expected = reference.table(scenario.wave.id, {}, None, _technologies(scenario), ANSWERS)
    _check_rows(body["rows"], expected, None, None)
    assert [row["technology"] for row in body["rows"]] == _technologies(scenario)  # questionnaire order
    assert all(row["n"] == 39 for row in body["rows"])  # each response once, whatever its clusters


def test_cluster_breakdown_counts_overlapping_members_in_each_cluster_and_suppresses(client, scenario):
    status, body = _get(client, "wave-2021", by="cluster")
    assert status == 200 and body["by"] == "cluster"
    slugs = {cluster.id: slug for slug, cluster in scenario.clusters.items()}
    reference = Reference(*raw_responses())
    expected = reference.table(scenario.wave.id, {}, "cluster", _technologies(scenario), ANSWERS)
    _check_rows(body["rows"], expected, "cluster", lambda slug: scenario.cluster_id(slug))
    by_cluster = {slugs[group]: rows for (group, _), rows in expected.items()}
    assert {slug for slug, row in by_cluster.items() if row["suppressed"]} == {"gamma", "delta"}
    n = {row["cluster"]: row["n"] for row in body["rows"] if row["technology"] == "cloud"}
    assert n["alpha"] == 20 and n["beta"] == 12  # the four shared members count in both
    assert n["gamma"] is None and n["delta"] is None  # 3 is below k; 8 is withheld so 3 cannot be derived


@pytest.mark.parametrize("by", ["size", "type", "country", "ecosystem"])
def test_profile_breakdowns_match_the_raw_answers(client, scenario, by):
    status, body = _get(client, "wave-2021", by=by)
    assert status == 200
    reference = Reference(*raw_responses())
    expected = reference.table(scenario.wave.id, {}, by, _technologies(scenario), ANSWERS)
    _check_rows(body["rows"], expected, by, lambda value: value)
    if by == "size":
        withheld = {row["size"] for row in body["rows"] if row["suppressed"]}
        assert "large" in withheld  # two large ones


def test_filters_narrow_the_population(client, scenario):
    alpha = scenario.cluster_id("alpha")
    status, body = _get(client, "wave-2021", by="size", cluster="alpha")
    assert status == 200
    reference = Reference(*raw_responses())
    expected = reference.table(scenario.wave.id, {"cluster": alpha}, "size", _technologies(scenario), ANSWERS)
    _check_rows(body["rows"], expected, "size", lambda value: value)

    status, body = _get(client, "wave-2021", by="cluster", type="sme", ecosystem="digital")
    assert status == 200
    expected = reference.table(
        scenario.wave.id, {"type": "sme", "ecosystem": "digital"}, "cluster", _technologies(scenario), ANSWERS
    )
    _check_rows(body["rows"], expected, "cluster", lambda slug: scenario.cluster_id(slug))


def test_a_group_withheld_in_its_breakdown_stays_withheld_when_asked_for_by_filter(client, scenario):
    # delta (8 responses) is withheld only to protect gamma; asking for it directly must not reveal it,
    # or 39 - shown clusters would give gamma back.
    for params in ({"cluster": "delta"}, {"cluster": "delta", "by": "size"}, {"cluster": "gamma"}):
        status, body = _get(client, "wave-2021", **params)
        assert status == 200
        assert body["rows"] and all(row["suppressed"] and row["n"] is None for row in body["rows"]), params
    sizes = {row["size"]: row["suppressed"] for row in _get(client, "wave-2021", by="size")[1]["rows"]}
    complementary = next(size for size, withheld in sizes.items() if withheld and size != "large")
    status, body = _get(client, "wave-2021", size=complementary)
    assert all(row["suppressed"] for row in body["rows"])
    # A group shown in its breakdown is shown when filtered to, with the same numbers.
    status, body = _get(client, "wave-2021", cluster="alpha")
    alpha_rows = {
        row["technology"]: row
        for row in _get(client, "wave-2021", by="cluster")[1]["rows"]
        if row["cluster"] == "alpha"
    }
    for row in body["rows"]:
        assert not row["suppressed"]
        assert {k: v for k, v in row.items()} == {
            k: v for k, v in alpha_rows[row["technology"]].items() if k != "cluster"
        }


def test_choosing_groups_of_the_breakdown_keeps_the_decisions_of_the_whole_breakdown(client, scenario):
    status, body = _get(client, "wave-2021", by="cluster", cluster=["delta", "alpha"])
    assert status == 200
    shown = {(row["cluster"], row["suppressed"]) for row in body["rows"]}
    assert shown == {("alpha", False), ("delta", True)}


def test_waves_side_by_side(client, scenario):
    status, body = _get(client, "wave-2021", by="wave")
    assert status == 200 and body["by"] == "wave"
    reference = Reference(*raw_responses())
    for wave in (scenario.earlier, scenario.wave):
        expected = reference.table(wave.id, {}, None, _technologies(scenario), ANSWERS)
        rows = [row for row in body["rows"] if row["wave"] == wave.slug]
        _check_rows([{k: v for k, v in row.items() if k != "wave"} for row in rows], expected, None, None)
    # Earlier waves first; only waves asked for, with the survey's own wave always included.
    assert [row["wave"] for row in body["rows"]][:: len(_technologies(scenario))] == ["wave-2019", "wave-2021"]
    status, body = _get(client, "wave-2019", by="wave", wave="wave-2019")
    assert {row["wave"] for row in body["rows"]} == {"wave-2019"}


def test_a_group_whose_count_fell_to_zero_is_not_listed(
    quick_client_for, make_user, make_invited, open_wave, make_cluster
):
    client = quick_client_for(make_user("policy@example.org", "policymaker"))
    cluster = make_cluster("solo")
    invited = [make_invited(clusters=[cluster]) for _ in range(6)]
    questionnaire = open_wave.questionnaire.parsed
    now = clock.now()
    for index, one in enumerate(invited):
        size = "large" if index == 0 else "small"
        submit_response(one.invitation, _values(questionnaire, index, size_class=size), now)
    db.session.commit()
    submit_response(
        invited[0].invitation, _values(questionnaire, 0, size_class="small"), now, checked=False
    )  # changes its answer: the tally keeps a "large" row whose count is 0
    open_wave.close(now)
    db.session.commit()
    assert db.session.query(Response).count() == 6
    rows = _get(client, "wave-2021", by="size")[1]["rows"]
    assert {row["size"] for row in rows} == {"small"}
    assert all(row["n"] == 6 for row in rows)


def _values(questionnaire, index, **overrides):
    values = varied_answers(questionnaire, index, **overrides)
    values.update(employees_now=10, employees_12m_ago=10, region=None)
    return values


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"by": "colour"}, "by"),
        ({"by": "cluster;DROP TABLE tally"}, "by"),
        ({"by": ["size", "type"]}, "by"),
        ({"sort": "n"}, "sort"),
        ({"size": "' OR 1=1 --"}, "size"),
        ({"cluster": "alpha' OR '1'='1"}, "cluster"),
        ({"country": "XX"}, "country"),
        ({"size": ["micro", "small"]}, "size"),
        ({"wave": "wave-2019"}, "wave"),
        ({"by": "wave", "wave": "wave-1999"}, "wave"),
        ({"ecosystem": "x" * 5000}, "ecosystem"),
    ],
)
def test_unknown_or_malformed_parameters_get_a_400_listing_what_is_allowed(client, scenario, params, parameter):
    status, body = _get(client, "wave-2021", **params)
    assert status == 400
    assert body["parameter"] == parameter
    assert isinstance(body["error"], str) and len(body["error"]) < 200
    if parameter == "by":
        assert body["allowed"] == ["cluster", "size", "type", "country", "ecosystem", "wave"]
    elif parameter == "sort":
        assert "by" in body["allowed"] and "cluster" in body["allowed"]
    elif parameter == "cluster":
        assert sorted(body["allowed"]) == ["alpha", "beta", "delta", "gamma"]
    elif parameter == "size" and isinstance(params["size"], str):
        assert body["allowed"] == ["micro", "small", "medium", "large"]


def test_unknown_survey_is_a_json_404(client, scenario):
    for slug in ("no-such-wave", "%00", "x" * 300):
        response = client.get(f"/api/v1/surveys/{slug}/adoption")
        assert response.status_code == 404 and response.is_json
        assert response.get_json()["status"] == 404
    status, body = _get(client, "wave-2021", size="\x00", by="size")
    assert status == 400 and body["parameter"] == "size"


def test_the_api_needs_a_token_or_a_session(app, scenario, make_user):
    from survey.operations.accounts import create_api_token

    anonymous = app.test_client()
    response = anonymous.get("/api/v1/surveys/wave-2021/adoption")
    assert response.status_code == 401 and response.is_json
    user = make_user("script@example.org", "policymaker")
    _, token = create_api_token(user, "script", clock.now())
    db.session.commit()
    with_token = anonymous.get("/api/v1/surveys/wave-2021/adoption", headers={"Authorization": f"Bearer {token}"})
    assert with_token.status_code == 200 and with_token.get_json()["survey"] == "wave-2021"


def test_a_manager_gets_their_clusters_only_and_404_for_another(app, scenario, make_user, quick_client_for):
    alpha = scenario.clusters["alpha"]
    manager = quick_client_for(make_user("manager@example.org", "manager", [alpha]))
    status, body = _get(manager, "wave-2021", by="cluster")
    assert status == 200
    assert {row["cluster"] for row in body["rows"]} == {"alpha"}
    for slug in scenario.clusters:
        if slug != "alpha":
            assert _get(manager, "wave-2021", by="cluster", cluster=slug)[0] == 404
            assert _get(manager, "wave-2021", cluster=slug)[0] == 404
