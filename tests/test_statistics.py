"""The pure parts of the reports: Wilson intervals, suppression rules, and parsing the query parameters."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reports.context import Option, Survey
from reports.dimensions import InvalidQuery, Query, parse_api_query, parse_page_query
from reports.protection import Atom, Items, protect
from reports.statistics import wilson_interval
from reports.suppression import Disclosure


@pytest.mark.parametrize(
    "x, n, low, high",
    [
        # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (score interval without correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0000),
    ],
)
def test_wilson_interval_matches_published_values(x, n, low, high):
    got_low, got_high = wilson_interval(x, n)
    assert float(got_low) == pytest.approx(low, abs=5e-5)
    assert float(got_high) == pytest.approx(high, abs=5e-5)


def test_wilson_interval_is_vectorised_and_empty_groups_have_none():
    low, high = wilson_interval(np.array([0, 5, 0]), np.array([10, 10, 0]))
    assert low[1] < 0.5 < high[1] and low[0] == 0
    assert math.isnan(low[2]) and math.isnan(high[2])


def _atoms(sizes: dict[str, int]) -> list[Atom]:
    """One cluster, one type, country and ecosystem; responses per size class."""
    return [Atom(frozenset({1}), (size, "sme", "ES", "digital"), n) for size, n in sizes.items()]


def _withheld_sizes(sizes: dict[str, int]) -> set[str]:
    protection = protect(_atoms(sizes), Items(), 5)
    return {size for size in sizes if protection.withheld((("size", size),))}


@pytest.mark.parametrize(
    "sizes, expected",
    [
        ({"a": 20, "b": 12, "c": 8}, set()),  # nothing small
        ({"a": 20, "b": 12, "c": 3, "d": 8}, {"c", "d"}),  # one small: the next smallest goes with it
        ({"a": 20, "b": 2, "c": 2, "d": 30}, {"a", "b", "c"}),  # two tiny ones below k together: another too
        ({"a": 20, "b": 3, "c": 4, "d": 30}, {"b", "c"}),  # two small ones that hold k together are enough
        ({"a": 3, "b": 50}, {"a", "b"}),  # a withheld group and one other: both
        ({"a": 4}, {"a"}),
    ],
)
def test_primary_and_complementary_suppression(sizes, expected):
    assert _withheld_sizes(sizes) == expected


def test_a_withheld_total_withholds_everything():
    protection = protect(_atoms({"a": 2, "b": 2}), Items(), 5)
    assert protection.published == frozenset()


def test_a_group_all_alike_is_shown_but_not_its_answers_to_that_question():
    items = Items((("ai", ("using", "not_planned")), ("cloud", ("using", "not_planned"))))
    atoms = [
        Atom(frozenset({1}), ("small", "sme", "ES", "digital"), 6, (6, 0, 3, 3)),  # all use AI
        Atom(frozenset({1}), ("large", "sme", "ES", "digital"), 6, (2, 4, 3, 3)),
    ]
    protection = protect(atoms, items, 5)
    small = (("size", "small"),)
    assert not protection.withheld(small)
    assert protection.answers_withheld(small, "ai") and not protection.answers_withheld(small, "cloud")
    assert not protection.answers_withheld((), "ai")


def _sizes_reader(table: dict):
    """A fake tally: (filters, by) -> {group: n} for one wave (id 1)."""

    def read(filters, by):
        groups = table[(filters, by)]
        return pd.DataFrame({"wave_id": [1] * len(groups), "group": list(groups), "n": list(groups.values())})

    return read


def test_a_group_is_withheld_alike_in_its_breakdown_and_when_filtered_to():
    table = {((), None): {None: 50}, ((), "size"): {"micro": 3, "small": 30, "large": 17}}
    protection = protect(_atoms({"micro": 3, "small": 30, "large": 17}), Items(), 5)
    disclosure = Disclosure(_sizes_reader(table), lambda wave: protection, [1], 5)
    assert disclosure.cell_withheld((("size", "large"),)) == {1: True}  # complementary to micro
    assert disclosure.cell_withheld((("size", "small"),)) == {1: False}
    groups = disclosure.breakdown((), "size")
    assert dict(zip(groups["group"], groups["withheld"], strict=True)) == {"large": True, "micro": True, "small": False}


def _survey() -> Survey:
    def options(*codes):
        return tuple(Option(code, code, code.title()) for code in codes)

    return Survey(
        wave_id=2,
        slug="w2",
        title="Wave 2",
        technologies=options("cloud", "ai"),
        adoption_scale=options("using", "planning", "not_planned", "dont_know"),
        challenges=(),
        challenge_scale=(),
        options={
            "cluster": (Option("alpha", 11, "Alpha"), Option("beta", 12, "Beta")),
            "size": options("micro", "small"),
            "type": options("sme"),
            "country": options("ES"),
            "ecosystem": options("digital"),
            "wave": (Option("w1", 1, "Wave 1"), Option("w2", 2, "Wave 2"), Option("w3", 3, "Wave 3")),
        },
    )


def test_api_parameters_become_a_query_in_tally_terms():
    survey = _survey()
    assert parse_api_query({}, survey, None) == Query(wave_ids=(2,))
    assert parse_api_query({"by": ["cluster"], "size": ["micro"]}, survey, None) == Query(
        wave_ids=(2,), by="cluster", filters=(("size", "micro"),)
    )
    assert parse_api_query({"by": ["cluster"], "cluster": ["beta,alpha"]}, survey, None).only == (12, 11)
    assert parse_api_query({"by": ["wave"]}, survey, None).wave_ids == (1, 2, 3)
    assert parse_api_query({"by": ["wave"], "wave": ["w3"]}, survey, None).wave_ids == (2, 3)
    assert parse_api_query({"by": [""], "size": [""]}, survey, None) == Query(wave_ids=(2,))


def test_visible_clusters_limit_what_may_be_asked_for():
    survey = _survey()
    assert parse_api_query({"by": ["cluster"]}, survey, {12}).only == (12,)
    with pytest.raises(InvalidQuery) as error:
        parse_api_query({"cluster": ["alpha"]}, survey, {12})
    assert error.value.parameter == "cluster" and error.value.allowed == ["beta"]


@pytest.mark.parametrize(
    "args, parameter",
    [
        ({"by": ["size", "type"]}, "by"),
        ({"by": ["1;DROP"]}, "by"),
        ({"order": ["n"]}, "order"),
        ({"size": ["micro", "small"]}, "size"),
        ({"size": ["xl"]}, "size"),
        ({"wave": ["w1"]}, "wave"),
    ],
)
def test_api_parameters_outside_the_allow_list_are_refused(args, parameter):
    with pytest.raises(InvalidQuery) as error:
        parse_api_query(args, _survey(), None)
    assert error.value.parameter == parameter


def test_page_parameters():
    survey = _survey()
    page = parse_page_query(
        {"cluster": ["alpha", "beta"], "size": ["micro"], "wave": ["w1"], "measure": ["using_or_planning"]},
        survey,
        None,
    )
    assert page.clusters == (11, 12) and page.compare_wave == 1 and page.measure == "using_or_planning"
    assert page.cluster_filter == (("size", "micro"),)  # several clusters: compared, not a filter
    one = parse_page_query({"cluster": ["beta"]}, survey, None)
    assert one.cluster_filter == (("cluster", 12),)
    for bad in ({"wave": ["w2"]}, {"measure": ["most"]}, {"by": ["size"]}):
        with pytest.raises(InvalidQuery):
            parse_page_query(bad, survey, None)


def test_reports_package_never_imports_flask():
    """reports/ is pure: no Flask request, session or app inside (the web layer passes everything in)."""
    for path in Path(__file__).resolve().parent.parent.joinpath("reports").glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("flask", "survey.views", "survey.extensions")), (path.name, name)
