"""Each chart rendered to SVG with vl-convert, its marks counted; the theme, palette and escaping checked."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import altair as alt
import pandas as pd
import pytest
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema import core as vega_lite

from reports import charts
from reports.context import Option
from reports.statistics import add_interval, add_shares

SVG = "{http://www.w3.org/2000/svg}"
ADOPTION = [
    Option("using", "using", "Currently using"),
    Option("planning", "planning", "Planning to use"),
    Option("not_planned", "not_planned", "Not using and no plans"),
    Option("dont_know", "dont_know", "Don't know"),
]
IMPORTANCE = [
    Option(code, code, label)
    for code, label in (
        ("1", "1 (not important)"),
        ("2", "2"),
        ("3", "3"),
        ("4", "4"),
        ("5", "5 (very important)"),
        ("na", "Not applicable"),
    )
]
PAYLOAD = '"><svg onload=alert(1)>'


def _table(rows: list[dict], codes: list[str]) -> pd.DataFrame:
    """A frame shaped like reports.results output, from counts per answer code."""
    frame = pd.DataFrame(rows)
    frame["n"] = frame[codes].sum(axis=1)
    frame = add_shares(frame, codes)
    if "using" in codes:
        frame["share_using_or_planning"] = (frame["using"] + frame["planning"]) / frame["n"]
        frame = add_interval(frame, frame["using"], "using")
        frame = add_interval(frame, frame["using"] + frame["planning"], "using_or_planning")
    else:
        frame["share_important"] = (frame["4"] + frame["5"]) / frame["n"]
        frame = add_interval(frame, frame["4"] + frame["5"], "important")
    frame["suppressed"] = frame.get("suppressed", False)
    return frame


def _adoption_rows(
    group: str | None = None, label: str | None = None, wave: str = "2021", scale: int = 1, suppressed: bool = False
) -> list[dict]:
    counts = {"cloud": (12, 5, 3, 0), "ai": (4, 6, 9, 1), "blockchain": (1, 2, 17, 0)}
    return [
        {
            "item": item,
            "item_label": item.title(),
            "group": group,
            "group_label": label,
            "wave_value": wave,
            "using": u * scale,
            "planning": p * scale,
            "not_planned": n * scale,
            "dont_know": d * scale,
            "suppressed": suppressed,
        }
        for item, (u, p, n, d) in counts.items()
    ]


def _marks(svg: str, kind: str) -> int:
    """How many marks of a kind (rect, symbol, rule, text) the chart draws; axes and legends not counted."""
    root = ET.fromstring(svg)
    total = 0
    for group in root.iter(f"{SVG}g"):
        classes = (group.get("class") or "").split()
        if f"mark-{kind}" in classes and "role-mark" in classes:
            total += len(list(group))
    return total


def test_adoption_chart_draws_one_segment_per_technology_and_answer_given():
    table = _table(_adoption_rows(), ["using", "planning", "not_planned", "dont_know"])
    svg = charts.to_svg(charts.adoption_chart(table, ADOPTION))
    nonzero = int((table[["using", "planning", "not_planned", "dont_know"]] > 0).to_numpy().sum())
    assert nonzero == 10  # the two zero counts draw nothing
    assert _marks(svg, "rect") == nonzero
    spec = charts.to_spec(charts.adoption_chart(table, ADOPTION))
    assert spec["encoding"]["y"]["sort"] == ["Cloud", "Ai", "Blockchain"]  # by share using
    assert spec["width"] == "container" and spec["autosize"]["type"] == "fit-x"


def test_withheld_rows_never_reach_a_chart():
    rows = _adoption_rows()
    rows[0]["suppressed"] = True
    table = _table(rows, ["using", "planning", "not_planned", "dont_know"])
    spec = charts.to_spec(charts.adoption_chart(table, ADOPTION))
    values = next(iter(spec["datasets"].values()))
    assert {value["item"] for value in values} == {"Ai", "Blockchain"}
    assert _marks(charts.to_svg(charts.adoption_chart(table, ADOPTION)), "rect") == 7


def test_comparison_chart_draws_a_bar_per_technology_and_group_shown():
    codes = ["using", "planning", "not_planned", "dont_know"]
    total = _table(_adoption_rows(scale=3), codes)
    groups = _table(
        _adoption_rows("a", "Alpha")
        + _adoption_rows("b", "Beta", suppressed=True)
        + _adoption_rows("c", "Gamma", scale=2),
        codes,
    )
    svg = charts.to_svg(charts.comparison_chart(groups, total))
    assert _marks(svg, "rect") == 3 * 3  # all clusters, Alpha and Gamma; Beta is withheld
    spec = charts.to_spec(charts.comparison_chart(groups, total, "using_or_planning"))
    assert spec["encoding"]["color"]["scale"]["domain"] == ["All clusters", "Alpha", "Beta", "Gamma"]
    assert spec["encoding"]["x"]["title"] == "Share using or planning"


def test_heat_map_draws_every_cell_and_greys_out_withheld_ones():
    codes = ["using", "planning", "not_planned", "dont_know"]
    groups = _table(
        _adoption_rows("a", "Alpha")
        + _adoption_rows("b", "Beta", suppressed=True)
        + _adoption_rows("c", "Gamma", scale=2),
        codes,
    )
    chart = charts.heatmap_chart(groups)
    svg = charts.to_svg(chart)
    assert _marks(svg, "rect") == 9  # 6 coloured cells and 3 grey ones
    assert _marks(svg, "text") == 9
    spec = charts.to_spec(chart)
    withheld = [value for dataset in spec["datasets"].values() for value in dataset if value.get("group") == "Beta"]
    assert withheld and all(value.get("share") is None and value.get("n") is None for value in withheld)


def test_waves_chart_draws_a_dot_per_wave_and_a_line_per_technology_with_both():
    codes = ["using", "planning", "not_planned", "dont_know"]
    earlier = _adoption_rows(wave="2019")
    earlier[2]["suppressed"] = True  # blockchain withheld in 2019: a dot for 2021 only, no line
    table = _table(earlier + _adoption_rows(wave="2021", scale=2), codes)
    svg = charts.to_svg(charts.waves_chart(table))
    assert _marks(svg, "symbol") == 5
    assert _marks(svg, "rule") == 2


def test_challenges_chart_draws_one_segment_per_challenge_and_level_given():
    codes = [option.key for option in IMPORTANCE]
    rows = [
        {
            "item": f"c{i}",
            "item_label": f"Challenge {i}",
            "1": i,
            "2": 2,
            "3": 5,
            "4": 6 - i,
            "5": 3,
            "na": 1 if i % 2 else 0,
        }
        for i in range(5)
    ]
    table = _table(rows, codes)
    svg = charts.to_svg(charts.challenges_chart(table, IMPORTANCE))
    assert _marks(svg, "rect") == int((table[codes] > 0).to_numpy().sum())


def test_one_registered_theme_with_a_colour_blind_safe_palette_whatever_is_enabled():
    assert charts.THEME in alt.theme.names()
    table = _table(_adoption_rows(), ["using", "planning", "not_planned", "dont_know"])
    with alt.theme.enable("dark"):
        spec = charts.to_spec(charts.adoption_chart(table, ADOPTION))
    assert spec["config"]["range"]["category"] == charts.PALETTE
    assert spec["encoding"]["color"]["scale"]["range"] == list(charts.ANSWER_COLOURS.values())
    assert charts.PALETTE[:3] == ["#0072B2", "#E69F00", "#009E73"]  # Okabe-Ito


@pytest.mark.parametrize("build", ["comparison", "heatmap"])
def test_names_are_data_in_specs_and_escaped_in_svg(build):
    codes = ["using", "planning", "not_planned", "dont_know"]
    groups = _table(_adoption_rows("a", PAYLOAD), codes)
    total = _table(_adoption_rows(), codes)
    chart = charts.comparison_chart(groups, total) if build == "comparison" else charts.heatmap_chart(groups)
    assert PAYLOAD in json.dumps(charts.to_spec(chart), ensure_ascii=False)
    svg = charts.to_svg(chart)
    assert "<svg onload" not in svg and "&lt;svg onload=alert(1)&gt;" in svg
    ET.fromstring(svg)  # still well-formed XML


def _every_chart() -> dict[str, charts.Figure]:
    codes = ["using", "planning", "not_planned", "dont_know"]
    total = _table(_adoption_rows(scale=3), codes)
    groups = _table(_adoption_rows("a", "Alpha") + _adoption_rows("b", "Beta", suppressed=True), codes)
    waves = _table(_adoption_rows(wave="2019") + _adoption_rows(wave="2021", scale=2), codes)
    challenges = _table(
        [{"item": "c", "item_label": "Challenge", "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "na": 0}],
        [option.key for option in IMPORTANCE],
    )
    return {
        "adoption": charts.adoption_chart(total, ADOPTION),
        "comparison": charts.comparison_chart(groups, total),
        "heatmap": charts.heatmap_chart(groups),
        "waves": charts.waves_chart(waves),
        "challenges": charts.challenges_chart(challenges, IMPORTANCE),
    }


@pytest.mark.parametrize("name", ["adoption", "comparison", "heatmap", "waves", "challenges"])
def test_each_spec_with_its_data_is_valid_vega_lite(name):
    """The rows are put beside Altair's spec without Altair seeing them: the whole spec must still be valid,
    and every dataset a layer names must be there, as plain JSON."""
    spec = charts.to_spec(_every_chart()[name])
    validate_jsonschema(spec, vega_lite.load_schema())
    named = {layer["data"]["name"] for layer in [spec, *spec.get("layer", [])] if "data" in layer}
    assert named and named <= set(spec["datasets"])
    assert json.loads(json.dumps(spec["datasets"], allow_nan=False)) == spec["datasets"]


def test_specs_kept_between_pages_follow_the_words_and_are_never_changed_in_place():
    """Altair's part of a spec is kept per builder: a reader in another language, or a new technology order,
    must get its own, and drawing at a fixed width must not change what the next page is given."""
    table = _table(_adoption_rows(), ["using", "planning", "not_planned", "dont_know"])
    english = charts.to_spec(charts.adoption_chart(table, ADOPTION))
    french = charts.ChartText(
        short_answers={"using": "Utilise", "planning": "Prévu", "not_planned": "Non prévu", "dont_know": "Ne sait pas"}
    )
    spec = charts.to_spec(charts.adoption_chart(table, ADOPTION, french))
    assert spec["encoding"]["color"]["scale"]["domain"] == ["Utilise", "Prévu", "Non prévu", "Ne sait pas"]
    assert english["encoding"]["color"]["scale"]["domain"][0] == "Using"
    rows = _adoption_rows()
    rows[2]["using"] = 60  # blockchain now the most used (60 of 79)
    reordered = charts.to_spec(charts.adoption_chart(_table(rows, list(charts.ANSWER_COLOURS)), ADOPTION))
    assert reordered["encoding"]["y"]["sort"][0] == "Blockchain"
    charts.to_svg(charts.adoption_chart(table, ADOPTION))
    assert charts.to_spec(charts.adoption_chart(table, ADOPTION)) == english
    assert english["width"] == "container"


@pytest.mark.parametrize("locale", ["en", "fr", "de", "pl"])
def test_every_percent_in_a_chart_is_written_as_the_readers_locale_writes_it(locale):
    """Tooltips, cell labels and intervals come from Babel for the locale, and the axis ticks Vega writes
    itself use the same sign and spacing (a French reader sees "60 %", with its narrow space, everywhere)."""
    from babel.numbers import format_percent

    codes = ["using", "planning", "not_planned", "dont_know"]
    text = charts.ChartText(locale=locale)
    total = _table(_adoption_rows(), codes)
    groups = _table(_adoption_rows("a", "Alpha", scale=2), codes)
    cloud = total[total["item"] == "cloud"].iloc[0]  # 12 of 20 use cloud
    expected = format_percent(0.6, locale=locale)
    low, high = (format_percent(cloud[f"ci_using_{end}"], locale=locale) for end in ("low", "high"))
    interval = f"{low}–{high}"

    bars = charts.to_spec(charts.comparison_chart(groups, total, text=text))
    row = next(
        r for r in next(iter(bars["datasets"].values())) if r["item"] == "Cloud" and r["group"] == "All clusters"
    )
    assert row["share_text"] == expected and row["interval"] == interval
    cells = charts.to_spec(charts.heatmap_chart(groups, text=text))
    assert expected in {r.get("label") for rows in cells["datasets"].values() for r in rows}

    svg = charts.to_svg(charts.adoption_chart(total, ADOPTION, text=text))
    ticks = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.text and t.text[0].isdigit()]
    assert format_percent(0.6, locale=locale) in ticks or format_percent(0.5, locale=locale) in ticks, ticks
