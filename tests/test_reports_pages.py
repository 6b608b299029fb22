"""The report page: every number in its tables and summaries against a recomputation from the raw answers,
charts that work without JavaScript and without inline scripts, and user-typed names escaped everywhere."""

from __future__ import annotations

import html
import json
import random
import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from babel.numbers import format_percent
from sqlalchemy import select

from survey import clock
from survey.extensions import db
from survey.models import Cluster
from survey.operations.setup import invite_organisation
from tests.reports_data import ANSWERS, CHALLENGE_CODES, Reference, populate, raw_responses

PAYLOAD = '"><svg onload=alert(1)>'


@pytest.fixture
def client(quick_client_for, make_user):
    """Reports are for people with an account; a policymaker sees every cluster."""
    return quick_client_for(make_user("policy@example.org", "policymaker"))


@pytest.fixture
def scenario(make_cluster, make_invited, open_wave):
    scenario = populate(make_cluster, make_invited, open_wave)
    # Three more alpha members are invited and have not answered: alpha's response rate is 20 of 23.
    for _ in range(3):
        make_invited(clusters=[scenario.clusters["alpha"]])
    return scenario


class Tables(HTMLParser):
    """Each table's rows as (row attributes, [cell texts]), by table id."""

    def __init__(self, page: str):
        super().__init__()
        self.tables: dict[str, list[tuple[dict, list[str]]]] = {}
        self._table = None
        self._row = None
        self._cell = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = (attrs, [])
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row[1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def pct(value: float) -> str:
    return format_percent(value, locale="en")


def interval(low: float, high: float) -> str:
    return f"{pct(low)}–{pct(high)}"


def _page(client, **params) -> str:
    response = client.get("/reports/wave-2021", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def _rows(page: str, table: str) -> dict[str, list[str]]:
    """Body rows of a table by their data-item (or data-group) attribute; header rows left out."""
    rows = Tables(page).tables[table]
    return {
        attrs.get("data-item", attrs.get("data-group")): cells
        for attrs, cells in rows
        if "data-item" in attrs or "data-group" in attrs
    }


def _labels(scenario) -> dict[str, str]:
    questionnaire = scenario.wave.questionnaire.parsed
    return {item.code: item.label for item in (*questionnaire.technologies, *questionnaire.challenges)}


#: The start of what a withheld chart's summary says.
WITHHELD_SUMMARY = "Withheld: fewer than 5 organisations answered, or the figures would let one organisation"


def _withheld(cell: str) -> bool:
    return cell == "withheld"


def test_response_counts_and_rates_per_cluster(client, scenario):
    rows = _rows(_page(client), "table-responses")
    assert rows["alpha"] == ["Alpha Cluster", "23", "20", pct(20 / 23)]
    assert rows["beta"] == ["Beta Cluster", "12", "12", pct(1)]
    assert rows["gamma"] == ["Gamma Cluster", "3", "withheld"]
    assert rows["delta"] == ["Delta Cluster", "9", "withheld"]  # would give gamma away
    assert rows[""] == ["All clusters", "42", "39", pct(39 / 42)]


def test_adoption_table_and_summary_match_the_raw_answers(client, scenario):
    page = _page(client)
    rows = _rows(page, "table-adoption")
    reference = Reference(*raw_responses())
    expected = reference.table(scenario.wave.id, {}, None, list(_labels(scenario))[:16], ANSWERS)
    assert len(rows) == 16
    for (_, tech), want in expected.items():
        cells = rows[tech]
        assert cells[0] == _labels(scenario)[tech]
        assert cells[1] == str(want["n"])
        assert cells[2:6] == [pct(want["shares"][code]) for code in ANSWERS]
        assert cells[6] == interval(*want["ci_using"])
        assert cells[7] == pct(want["shares"]["using"] + want["shares"]["planning"])
        assert cells[8] == interval(*want["ci_using_or_planning"])
    ranked = sorted(expected.items(), key=lambda item: -item[1]["shares"]["using"])
    top_tech, top = ranked[0][0][1], ranked[0][1]
    sentence = (
        f"Most used: {_labels(scenario)[top_tech]}, {pct(top['shares']['using'])} of 39 organisations "
        f"(95% CI {interval(*top['ci_using'])})"
    )
    assert sentence in html.unescape(page)


@pytest.mark.parametrize(
    "params",
    [
        {"cluster": "alpha", "size": "micro"},
        {"cluster": "alpha", "size": "small"},
        {"type": "sme"},
        {"cluster": "beta", "country": "BE"},
    ],
)
def test_filtered_page_shows_the_filtered_population(client, scenario, params):
    page = _page(client, **params)
    reference = Reference(*raw_responses())
    filters = {key: scenario.cluster_id(value) if key == "cluster" else value for key, value in params.items()}
    expected = reference.table(scenario.wave.id, filters, None, list(_labels(scenario))[:16], ANSWERS)
    if all(want["suppressed"] for want in expected.values()):
        assert 'id="table-adoption"' not in page and WITHHELD_SUMMARY in page
        return
    rows = _rows(page, "table-adoption")
    for (_, tech), want in expected.items():
        assert rows[tech][1] == str(want["n"])
        assert rows[tech][2:6] == [pct(want["shares"][code]) for code in ANSWERS]


def test_heat_map_table_matches_and_withholds_the_small_clusters(client, scenario):
    page = _page(client, measure="using_or_planning")
    rows = _rows(page, "table-heatmap")
    headers = re.findall(
        r'<th scope="col" class="num" data-group="([^"]+)">', page.split('id="table-heatmap"')[1].split("</thead>")[0]
    )
    assert headers == ["alpha", "beta", "delta", "gamma"]  # by name
    reference = Reference(*raw_responses())
    expected = reference.table(scenario.wave.id, {}, "cluster", list(_labels(scenario))[:16], ANSWERS)
    for tech in list(_labels(scenario))[:16]:
        for column, slug in enumerate(headers, start=1):
            want = expected[(scenario.cluster_id(slug), tech)]
            cell = rows[tech][column]
            if slug in ("gamma", "delta"):
                assert want["suppressed"] and _withheld(cell)
                continue
            if want["suppressed"]:  # the cluster's answers to this technology all alike (the dominance rule)
                assert _withheld(cell)
                continue
            share = want["shares"]["using"] + want["shares"]["planning"]
            assert cell == f"{pct(share)} ({interval(*want['ci_using_or_planning'])}, n={want['n']})"


def test_comparison_of_chosen_clusters_with_all_clusters(client, scenario):
    page = _page(client, cluster=["alpha", "beta", "gamma"])
    rows = _rows(page, "table-comparison")
    reference = Reference(*raw_responses())
    techs = list(_labels(scenario))[:16]
    total = reference.table(scenario.wave.id, {}, None, techs, ANSWERS)
    groups = reference.table(scenario.wave.id, {}, "cluster", techs, ANSWERS)
    for tech in techs:
        want = total[(None, tech)]
        assert rows[tech][1] == f"{pct(want['shares']['using'])} ({interval(*want['ci_using'])}, n=39)"
        for column, slug in ((2, "alpha"), (3, "beta"), (4, "gamma")):
            want = groups[(scenario.cluster_id(slug), tech)]
            if want["suppressed"]:
                assert _withheld(rows[tech][column])
            else:
                assert rows[tech][column] == (
                    f"{pct(want['shares']['using'])} ({interval(*want['ci_using'])}, n={want['n']})"
                )


def test_change_between_waves(client, scenario):
    page = _page(client, cluster="alpha")
    rows = _rows(page, "table-waves")
    reference = Reference(*raw_responses())
    techs = list(_labels(scenario))[:16]
    alpha = {"cluster": scenario.cluster_id("alpha")}
    before = reference.table(scenario.earlier.id, alpha, None, techs, ANSWERS)
    after = reference.table(scenario.wave.id, alpha, None, techs, ANSWERS)
    assert any(not before[(None, tech)]["suppressed"] for tech in techs)
    for tech in techs:
        old, new = before[(None, tech)], after[(None, tech)]
        for column, want in ((1, old), (2, new)):
            if want["suppressed"]:
                assert _withheld(rows[tech][column])
            else:
                assert rows[tech][column] == (
                    f"{pct(want['shares']['using'])} ({interval(*want['ci_using'])}, n={want['n']})"
                )
        if not (old["suppressed"] or new["suppressed"]):
            assert rows[tech][3] == f"{(new['shares']['using'] - old['shares']['using']) * 100:+.0f}"


def test_challenges_table_matches(client, scenario):
    rows = _rows(_page(client), "table-challenges")
    reference = Reference(*raw_responses())
    challenges = list(_labels(scenario))[16:]
    expected = reference.table(scenario.wave.id, {}, None, challenges, CHALLENGE_CODES)
    for code in challenges:
        want = expected[(None, code)]
        assert rows[code][1] == str(want["n"])
        assert rows[code][2:8] == [pct(want["shares"][answer]) for answer in CHALLENGE_CODES]
        important = want["shares"]["4"] + want["shares"]["5"]
        assert rows[code][8] == pct(important)


def test_a_withheld_population_shows_no_numbers_and_no_charts(client, scenario):
    page = _page(client, cluster="gamma")
    assert WITHHELD_SUMMARY in page
    assert 'id="table-adoption"' not in page and 'id="spec-adoption"' not in page
    assert 'id="table-challenges"' not in page and 'id="spec-challenges"' not in page


def test_no_inline_scripts_styles_or_handlers(client, scenario):
    page = _page(client, cluster=["alpha", "beta"])
    for tag in re.findall(r"<script[^>]*>", page):
        assert 'src="/' in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"<[^>]+\sstyle=", page)
    assert not re.search(r"<[^>]+\son[a-z]+=", page)
    assert "cdn" not in page.lower() and "https://" not in page.replace("https://vega.github.io/schema", "")
    specs = re.findall(r'<script type="application/json" id="spec-(\w+)">(.*?)</script>', page, re.S)
    assert [name for name, _ in specs] == ["adoption", "comparison", "heatmap", "waves", "challenges"]
    for _, spec in specs:
        assert json.loads(spec)["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


def test_without_javascript_every_chart_is_a_server_drawn_svg(client, scenario):
    page = _page(client, cluster=["alpha", "beta"])
    images = re.findall(r'<noscript><img class="chart-svg" src="([^"]+)" alt="([^"]+)"></noscript>', page)
    assert len(images) == 5
    for url, alt in images:
        response = client.get(html.unescape(url))
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        assert response.get_data(as_text=True).startswith("<svg")
        assert alt and "withheld" not in alt.lower()
    assert client.get("/reports/wave-2021/charts/nothing.svg").status_code == 404


def test_the_vega_bundle_is_served_by_the_app(client, scenario):
    page = _page(client)
    url = re.search(r'<script src="(/reports/vega\.js\?v=[^"]+)" defer>', page).group(1)
    response = client.get(html.unescape(url))
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert "immutable" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    assert "window.vegaEmbed" in body and len(body) > 100_000
    with client.get("/static/reports.js") as script:
        assert script.status_code == 200 and b"vegaEmbed" in script.data


def test_user_typed_names_are_escaped_in_page_specs_and_svg(client, make_cluster, make_invited, open_wave):
    populate(make_cluster, make_invited, open_wave, extra_name=PAYLOAD)
    db.session.commit()
    page = _page(client, cluster=["alpha", "beta"])
    assert PAYLOAD not in page and "<svg onload" not in page
    assert html.escape(PAYLOAD) in page or "&#34;&gt;&lt;svg onload=alert(1)&gt;" in page
    for name, spec in re.findall(r'<script type="application/json" id="spec-(\w+)">(.*?)</script>', page, re.S):
        assert "<" not in spec  # |tojson writes < as \u003c: nothing can close the script element
        if name in ("comparison", "heatmap"):
            assert PAYLOAD in json.dumps(json.loads(spec), ensure_ascii=False)  # the name itself, as data
    for name in ("comparison", "heatmap"):
        svg = client.get(f"/reports/wave-2021/charts/{name}.svg", query_string={"cluster": ["alpha", "beta"]})
        text = svg.get_data(as_text=True)
        assert svg.status_code == 200 and "<svg onload" not in text and "&lt;svg onload" in text


def test_bad_parameters_get_a_400_page_and_unknown_surveys_a_404(client, scenario):
    for params in (
        {"size": "huge"},
        {"colour": "red"},
        {"measure": "max"},
        {"cluster": "nope"},
        {"size": ["micro", "small"]},
        {"wave": "wave-2021"},
    ):
        response = client.get("/reports/wave-2021", query_string=params)
        assert response.status_code == 400, params
        body = html.unescape(response.get_data(as_text=True))
        assert "Allowed: " in body or "Choose one value for" in body
    assert client.get("/reports/no-such-wave").status_code == 404
    assert client.get("/reports/no-such-wave/charts/adoption.svg").status_code == 404


def test_reports_need_an_account(app, scenario):
    anonymous = app.test_client()
    for url in ("/reports/wave-2021", "/reports/wave-2021/charts/adoption.svg"):
        response = anonymous.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert anonymous.get("/reports/vega.js").status_code == 200  # a library, the same for everyone


def test_a_manager_sees_their_clusters_and_the_total_but_no_other_cluster(scenario, make_user, quick_client_for):
    alpha = scenario.clusters["alpha"]
    manager = quick_client_for(make_user("manager@example.org", "manager", [alpha]))
    page = html.unescape(manager.get("/reports/wave-2021").get_data(as_text=True))
    assert alpha.name in page
    others = [cluster.name for slug, cluster in scenario.clusters.items() if slug != "alpha"]
    assert others and not any(name in page for name in others)
    for slug in scenario.clusters:
        if slug != "alpha":
            assert manager.get("/reports/wave-2021", query_string={"cluster": slug}).status_code == 404
            svg = manager.get("/reports/wave-2021/charts/heatmap.svg", query_string={"cluster": slug})
            assert svg.status_code == 404
    assert manager.get("/reports/wave-2021", query_string={"cluster": "alpha"}).status_code == 200


def test_only_one_wave_means_nothing_to_compare(client, make_cluster, make_invited, open_wave):
    invited = make_invited()
    invite_organisation(open_wave, invited.organisation, clock.now())
    open_wave.close(clock.now())
    db.session.commit()
    page = _page(client)
    assert "There is only one wave so far" in page
    assert WITHHELD_SUMMARY in page


def test_the_reports_index_lists_waves_with_results_and_is_a_policymakers_home(app, scenario, make_user, client_for):
    from survey.operations.setup import create_wave, load_questionnaire

    create_wave("wave-2025", "Draft wave 2025", load_questionnaire())
    db.session.commit()
    policymaker = client_for(make_user("reader@example.org", "policymaker"))
    assert policymaker.get("/").headers["Location"] == "/reports/"
    page = policymaker.get("/reports/").get_data(as_text=True)
    assert 'href="/reports/wave-2021"' in page
    assert "wave-2025" not in page  # a draft has no results to show
    assert app.test_client().get("/reports/").headers["Location"].startswith("/login")


@pytest.mark.parametrize("locale", ["en", "de", "fr", "ar"])
def test_percentages_are_written_as_babel_writes_them(locale):
    # The page formats its many percentages with a memoised formatter; it must agree with Babel everywhere,
    # above all on values within a hair of a half percent, where rounding the float would go the other way.
    from babel import Locale

    from reports.formatting import percent_formatter

    rng = random.Random(5)
    values = [k / n for n in range(1, 120) for k in range(n + 1)]
    values += [(2 * k + 1) / 200 for k in range(200)] + [0.145, 0.165, 0.285, 1.005, 2.5, 0.0, 1.0]
    values += [rng.random() for _ in range(2000)] + [-0.004, float("nan")]
    percent = percent_formatter(Locale.parse(locale))
    assert [percent(value) for value in values] == [format_percent(value, locale=locale) for value in values]


def test_adoption_and_challenges_read_together_are_those_read_alone(app, scenario):
    # The page reads both from one query; the downloads and the API read each alone: they must agree.
    from reports import results
    from reports.aggregate import load_survey
    from reports.dimensions import Query

    conn = db.session.connection()
    survey = load_survey(conn, "wave-2021")
    for filters in ((), (("size", "large"),), (("cluster", scenario.cluster_id("gamma")),), (("type", "sme"),)):
        query = Query(wave_ids=(survey.wave_id,), filters=filters)
        adoption, challenges = results.adoption_and_challenges(conn, survey, query, 5)
        pd.testing.assert_frame_equal(adoption, results.adoption(conn, survey, query, 5))
        pd.testing.assert_frame_equal(challenges, results.challenges(conn, survey, query, 5))


def test_an_open_wave_s_results_are_shown_to_no_one_until_it_closes(
    make_cluster, make_invited, open_wave, make_user, quick_client_for
):
    """Release control: comparing an open wave at two moments would show what one organisation answered, to an
    admin as much as to anyone else."""
    populate(make_cluster, make_invited, open_wave, close=False)
    alpha = db.session.scalars(select(Cluster).filter_by(slug="alpha")).one()
    readers = {
        "policymaker": quick_client_for(make_user("policy@example.org", "policymaker")),
        "manager": quick_client_for(make_user("manager@example.org", "manager", [alpha])),
        "admin": quick_client_for(make_user("admin@example.org", "admin")),
    }
    for client in readers.values():
        for url in ("/reports/wave-2021", "/reports/wave-2021/adoption.csv", "/api/v1/surveys/wave-2021/adoption"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "published when" in response.get_data(as_text=True), url
        assert 'href="/reports/wave-2021"' not in client.get("/reports/").get_data(as_text=True)
        assert "wave-2021" not in client.get("/reports/wave-2019").get_data(as_text=True).split("<main")[1]
    open_wave.close(clock.now())
    db.session.commit()
    for client in readers.values():
        assert client.get("/reports/wave-2021").status_code == 200
        assert client.get("/api/v1/surveys/wave-2021/adoption").get_json()["rows"]
