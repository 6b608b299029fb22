"""Charts: tidy frames in, Altair charts out. Positions, shares and labels are computed in pandas; the
charts only encode them, and never touch the database.

One registered theme (`THEME`) gives every chart the same fonts, sizes and colours. Colours come from the
Okabe-Ito palette and ColorBrewer's single-hue blues, both distinguishable with the common colour-vision
deficiencies; answers are also told apart by their order along the bar and by the table under each chart.
Charts take the container's width in the browser, so they fit a phone; labels are capped so long technology
and cluster names cannot squeeze the bars away. Withheld groups are left out of charts (the heat map shows
a grey cell marked "–"); their numbers never reach a spec.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import altair as alt
import pandas as pd
import vl_convert
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema import core as vega_lite

from reports.context import Option
from reports.formatting import percent_for, percent_interval, vega_number_locale
from reports.frames import records

THEME = "cluster_survey"

#: Okabe & Ito (2008), "Color Universal Design": safe for protanopia, deuteranopia and tritanopia.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
#: The four adoption answers: two blues for the answers that mean adoption, orange and grey for the others.
ANSWER_COLOURS = {"using": "#0072B2", "planning": "#56B4E9", "not_planned": "#E69F00", "dont_know": "#BBBBBB"}
#: Importance 1-5 (ColorBrewer Blues, light to dark) and "not applicable" in grey.
IMPORTANCE_COLOURS = {"1": "#C6DBEF", "2": "#9ECAE1", "3": "#6BAED6", "4": "#3182BD", "5": "#08519C", "na": "#D9D9D9"}
#: "All clusters" in comparisons: a neutral dark grey, apart from the palette.
ALL_COLOUR = "#4D4D4D"
WITHHELD_COLOUR = "#E6E6E6"
#: Vega-Lite version the charts are written for (Altair's), also used for the browser bundle and SVG.
VEGA_LITE_VERSION = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
#: Width of server-rendered SVG (the browser uses the container's width).
SVG_WIDTH = 640
#: Width of a heat map cell: room for "100%" at any screen width.
HEATMAP_CELL = 52
#: Height of one bar's row, and of one bar among several in a row.
ROW = 22
BAR = 11
#: Chart specs kept per builder (see `_written`): a few per page, language and measure.
SPECS_KEPT = 128

Width = int | str


@alt.theme.register(THEME, enable=True)
def _theme() -> alt.theme.ThemeConfig:
    font = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
    return {
        "config": {
            "font": font,
            "background": "#ffffff",
            "view": {"stroke": None},
            "axis": {
                "labelFontSize": 12,
                "titleFontSize": 12,
                "labelColor": "#1b1b1b",
                "titleColor": "#1b1b1b",
                "labelLimit": 150,
                "gridColor": "#e6e6e6",
                "domainColor": "#6b6b6b",
                "tickColor": "#6b6b6b",
            },
            "axisY": {"titlePadding": 8},
            # One legend entry per line under the chart: long answer and cluster names stay readable on a phone.
            "legend": {
                "orient": "bottom",
                "direction": "vertical",
                "labelFontSize": 12,
                "titleFontSize": 12,
                "labelLimit": 150,
                "symbolType": "square",
            },
            # Vega-Lite takes a scheme for a range; Altair's typed theme lists only arrays of colours.
            "range": {"category": PALETTE, "heatmap": {"scheme": "blues"}},  # type: ignore[typeddict-item]
            "bar": {"stroke": "#ffffff", "strokeWidth": 0.5},
            "point": {"filled": True, "size": 80},
            "rect": {"stroke": "#ffffff", "strokeWidth": 1},
            "text": {"fontSize": 11},
        }
    }


@dataclass(frozen=True)
class ChartText:
    """The words inside charts; the web app passes translated ones."""

    share: str = "Share of organisations"
    share_using: str = "Share using"
    share_using_or_planning: str = "Share using or planning"
    technology: str = "Technology"
    answer: str = "Answer"
    group: str = "Group"
    cluster: str = "Cluster"
    all_clusters: str = "All clusters"
    wave: str = "Wave"
    challenge: str = "Challenge"
    importance: str = "Importance"
    organisations: str = "Organisations"
    interval: str = "95% CI"
    withheld: str = "Withheld (to protect individual answers)"
    #: The reader's locale: percentages in labels, tooltips and axes are written as it writes them.
    locale: str = "en"
    #: Short answer names for legends, which must fit beside the bars on a phone; tables keep the full ones.
    short_answers: Mapping[str, str] = field(
        default_factory=lambda: {
            "using": "Using",
            "planning": "Planning",
            "not_planned": "No plans",
            "dont_know": "Don't know",
        }
    )

    def __hash__(self) -> int:
        # Chart specs are memoised with their words as part of the key; the mapping is hashed by its items.
        return hash(
            (
                *(getattr(self, name) for name in self.__dataclass_fields__ if name != "short_answers"),
                frozenset(self.short_answers.items()),
            )
        )


@dataclass(frozen=True)
class Figure:
    """A chart's Vega-Lite spec as Altair writes it, its data left out as named datasets, and those datasets as
    JSON-ready rows.

    Altair copies, checks and hashes every row of a DataFrame, and validates every shorthand string, when a spec
    is written: for the heat map's 1,600 cells that was a third of a report page's time. The rows here are
    built as plain JSON values already, so `to_spec` puts them beside Altair's spec as they are.

    The spec without its data depends only on a few labels, orders and sizes, which rarely change from one
    submission to the next, so the builders keep it (`_written`): it is shared, and never changed in place."""

    spec: Mapping[str, Any]
    datasets: Mapping[str, list[dict[str, Any]]]


def _percent(value: float, text: ChartText) -> str:
    return percent_for(text.locale)(value)


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    return table[~table["suppressed"].astype(bool)]


def _written(chart: Any, text: ChartText) -> dict[str, Any]:
    """The chart's Vega-Lite JSON with the house theme, whatever theme is enabled elsewhere, and the reader's
    number symbols for the axes and legends Vega formats itself.

    Not validated: that took most of a report page's time. `to_spec(validate=True)` checks the finished spec,
    and the tests check every builder's (tests/test_charts.py)."""
    with alt.theme.enable(THEME):
        spec = chart.to_dict(validate=False)
    spec.setdefault("config", {})["locale"] = {"number": vega_number_locale(text.locale)}
    return spec


def _stacked(
    table: pd.DataFrame,
    scale: Sequence[Option],
    colours: dict[str, str],
    sort_by: str,
    interval: str | None,
    text: ChartText,
    answer_title: str,
    item_title: str,
    width: Width,
) -> Figure:
    """Horizontal bars of every answer's share, stacked in the scale's order, items sorted by `sort_by`."""
    shown = _shown(table).sort_values(sort_by, ascending=False, kind="stable")
    order = tuple(shown["item_label"].tolist())
    names = tuple(text.short_answers.get(str(option.key), option.label) for option in scale)
    rows = []
    for row in records(shown):  # dicts, not itertuples: answer codes such as "1" are not names
        for index, option in enumerate(scale):
            code = str(option.key)
            if int(row[code]) > 0:  # an answer nobody gave draws nothing
                rows.append(
                    {
                        "item": row["item_label"],
                        "answer": names[index],
                        "position": index,
                        "count": int(row[code]),
                        "share": float(row[f"share_{code}"]),
                        "share_text": _percent(row[f"share_{code}"], text),
                        "n": int(row["n"]),
                        "interval": percent_interval(row[f"ci_{interval}_low"], row[f"ci_{interval}_high"], text.locale)
                        if interval
                        else "",
                    }
                )
    spec = _stacked_spec(
        order,
        names,
        tuple(colours.get(str(option.key), "#999999") for option in scale),
        interval is not None,
        text,
        answer_title,
        item_title,
        width,
    )
    return Figure(spec, {"bars": rows})


@lru_cache(maxsize=SPECS_KEPT)
def _stacked_spec(
    order: tuple[str, ...],
    names: tuple[str, ...],
    colours: tuple[str, ...],
    interval: bool,
    text: ChartText,
    answer_title: str,
    item_title: str,
    width: Width,
) -> dict[str, Any]:
    tooltip = [
        alt.Tooltip("item:N", title=item_title),
        alt.Tooltip("answer:N", title=answer_title),
        alt.Tooltip("share_text:N", title=text.share),
        alt.Tooltip("count:Q", title=text.organisations, format=","),
        alt.Tooltip("n:Q", title="n", format=","),
    ]
    if interval:
        tooltip.append(alt.Tooltip("interval:N", title=f"{text.interval} ({text.share_using.lower()})"))
    chart = (
        alt.Chart(alt.NamedData("bars"))
        .mark_bar()
        .encode(
            x=alt.X(
                "share:Q", stack="zero", title=text.share, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
            ),
            y=alt.Y("item:N", sort=list(order), title=None),
            color=alt.Color("answer:N", title=answer_title, scale=alt.Scale(domain=list(names), range=list(colours))),
            order=alt.Order("position:Q"),
            tooltip=tooltip,
        )
    )
    return _written(_sized(chart, width, ROW * len(order)), text)


def _sized(chart: Any, width: Width, height: int) -> Any:
    """Set the size; a "container" width also makes the chart fit it, padding and axis labels included.

    Heights are numbers of pixels worked out from the rows (not Vega-Lite "steps", which cannot be combined
    with fitting the width)."""
    if width == "container":
        return chart.properties(
            width=width, height=height, autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
        )
    return chart.properties(width=width, height=height)


def adoption_chart(
    table: pd.DataFrame, scale: Sequence[Option], text: ChartText = ChartText(), width: Width = "container"
) -> Figure:
    """Chart 1: each technology's answers as a stacked bar, sorted by share using; the interval in the tooltip.

    `table` is `results.adoption` for one wave without a breakdown.
    """
    return _stacked(table, scale, ANSWER_COLOURS, "share_using", "using", text, text.answer, text.technology, width)


def challenges_chart(
    table: pd.DataFrame, scale: Sequence[Option], text: ChartText = ChartText(), width: Width = "container"
) -> Figure:
    """Chart 5: the pandemic challenges' importance, stacked 1 to 5 (and not applicable), most important first."""
    return _stacked(
        table, scale, IMPORTANCE_COLOURS, "share_important", None, text, text.importance, text.challenge, width
    )


def comparison_chart(
    groups: pd.DataFrame,
    total: pd.DataFrame,
    measure: str = "using",
    text: ChartText = ChartText(),
    width: Width = "container",
) -> Figure:
    """Chart 2: one or more clusters against all clusters: the share using (or using or planning) per technology.

    `groups` is `results.adoption` by cluster (only the clusters compared), `total` the same without `by`.
    """
    share, title = _measure(measure, text)
    total_shown = _shown(total).sort_values(share, ascending=False, kind="stable")
    order = total_shown["item_label"].tolist() + [
        label for label in _shown(groups)["item_label"].unique() if label not in set(total_shown["item_label"])
    ]
    rows = [_bar_row(row, text.all_clusters, share, measure, text) for row in records(total_shown)]
    rows += [_bar_row(row, row["group_label"], share, measure, text) for row in records(_shown(groups))]
    names = [text.all_clusters] + [name for name in dict.fromkeys(groups["group_label"]) if name is not None]
    return Figure(_comparison_spec(tuple(order), tuple(names), title, text, width), {"bars": rows})


@lru_cache(maxsize=SPECS_KEPT)
def _comparison_spec(
    order: tuple[str, ...], names: tuple[str, ...], title: str, text: ChartText, width: Width
) -> dict[str, Any]:
    chart = (
        alt.Chart(alt.NamedData("bars"))
        .mark_bar()
        .encode(
            x=alt.X("share:Q", title=title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("item:N", sort=list(order), title=None),
            yOffset=alt.YOffset("group:N", sort=list(names)),
            color=alt.Color(
                "group:N",
                title=text.cluster,
                sort=list(names),
                scale=alt.Scale(domain=list(names), range=[ALL_COLOUR, *PALETTE][: len(names)]),
            ),
            tooltip=[
                alt.Tooltip("item:N", title=text.technology),
                alt.Tooltip("group:N", title=text.cluster),
                alt.Tooltip("share_text:N", title=title),
                alt.Tooltip("n:Q", title=text.organisations, format=","),
                alt.Tooltip("interval:N", title=text.interval),
            ],
        )
    )
    return _written(_sized(chart, width, len(order) * (BAR * len(names) + 8)), text)


def _measure(measure: str, text: ChartText) -> tuple[str, str]:
    if measure == "using_or_planning":
        return "share_using_or_planning", text.share_using_or_planning
    return "share_using", text.share_using


def _bar_row(row: dict[str, Any], group: str, share: str, measure: str, text: ChartText) -> dict[str, Any]:
    return {
        "item": row["item_label"],
        "group": group,
        "share": float(row[share]),
        "share_text": _percent(row[share], text),
        "n": int(row["n"]),
        "interval": percent_interval(row[f"ci_{measure}_low"], row[f"ci_{measure}_high"], text.locale),
    }


def heatmap_chart(
    groups: pd.DataFrame,
    measure: str = "using",
    technology_order: Sequence[str] | None = None,
    text: ChartText = ChartText(),
) -> Figure:
    """Chart 3: clusters by technologies, each cell the share using (or using or planning); withheld cells grey."""
    share, title = _measure(measure, text)
    shown: list[dict[str, Any]] = []
    hidden: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    # Columns, not records: a heat map has over a thousand rows, and DataFrame.to_dict("records") is slow.
    for item, group, withheld, value, n in zip(
        groups["item_label"].tolist(),
        groups["group_label"].tolist(),
        groups["suppressed"].astype(bool).tolist(),
        groups[share].tolist(),
        groups["n"].tolist(),
        strict=True,
    ):
        label = "–" if withheld else _percent(value, text)
        if withheld:
            hidden.append({"item": item, "group": group, "label": label, "note": text.withheld})
        else:
            shown.append(
                {"item": item, "group": group, "share": float(value), "share_text": label, "label": label, "n": int(n)}
            )
        labels.append(
            {
                "item": item,
                "group": group,
                "label": label,
                "ink": "#ffffff" if not withheld and value > 0.55 else "#1b1b1b",
            }
        )
    if technology_order is None:
        means: dict[str, list[float]] = {}
        for row in shown:
            means.setdefault(row["item"], []).append(row["share"])
        ranked = sorted(means, key=lambda item: -sum(means[item]) / len(means[item]))
        technology_order = ranked + [row["item"] for row in labels if row["item"] not in means]
    clusters = tuple(dict.fromkeys(row["group"] for row in labels))
    spec = _heatmap_spec(clusters, tuple(dict.fromkeys(technology_order)), title, text)
    return Figure(spec, {"cells": shown, "withheld": hidden, "labels": labels})


@lru_cache(maxsize=SPECS_KEPT)
def _heatmap_spec(
    clusters: tuple[str, ...], technologies: tuple[str, ...], title: str, text: ChartText
) -> dict[str, Any]:
    x = alt.X("group:N", sort=list(clusters), title=None, axis=alt.Axis(labelAngle=-40, labelLimit=120, orient="top"))
    y = alt.Y("item:N", sort=list(technologies), title=None)
    cells = (
        alt.Chart(alt.NamedData("cells"))
        .mark_rect()
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "share:Q",
                title=title,
                scale=alt.Scale(scheme="blues", domain=[0, 1]),
                legend=alt.Legend(format="%", direction="horizontal", gradientLength=160),
            ),
            tooltip=[
                alt.Tooltip("group:N", title=text.cluster),
                alt.Tooltip("item:N", title=text.technology),
                alt.Tooltip("share_text:N", title=title),
                alt.Tooltip("n:Q", title=text.organisations, format=","),
            ],
        )
    )
    withheld = (
        alt.Chart(alt.NamedData("withheld"))
        .mark_rect(color=WITHHELD_COLOUR)
        .encode(
            x=x,
            y=y,
            tooltip=[
                alt.Tooltip("group:N", title=text.cluster),
                alt.Tooltip("item:N", title=text.technology),
                alt.Tooltip("note:N", title=title),
            ],
        )
    )
    texts = (
        alt.Chart(alt.NamedData("labels"))
        .mark_text(baseline="middle")
        .encode(x=x, y=y, text=alt.Text("label:N"), color=alt.Color("ink:N", scale=None))
    )
    # The text colours are literal (scale=None), so the colour scale of the cells must not be shared with them.
    # Cells keep a readable size (the page scrolls the chart sideways on a phone), so no "container" width.
    # Built in one constructor: alt.layer().resolve_scale().properties() copies every layer twice over.
    return _written(
        alt.LayerChart(
            layer=[cells, withheld, texts],
            resolve=alt.Resolve(scale=alt.ScaleResolveMap(color="independent")),
            width=alt.Step(HEATMAP_CELL),
            height=alt.Step(ROW + 2),
        ),
        text,
    )


def waves_chart(
    table: pd.DataFrame, measure: str = "using", text: ChartText = ChartText(), width: Width = "container"
) -> Figure:
    """Chart 4: the change per technology between waves: a dot per wave joined by a line, latest wave sorted.

    `table` is `results.adoption` by wave, waves in chronological order.
    """
    share, title = _measure(measure, text)
    # Waves by slug: short, and distinct where titles differ only at the end.
    waves = tuple(dict.fromkeys(table["wave_value"].tolist()))
    rows = [
        {
            "item": row["item_label"],
            "wave": row["wave_value"],
            "share": float(row[share]),
            "share_text": _percent(row[share], text),
            "n": int(row["n"]),
            "interval": percent_interval(row[f"ci_{measure}_low"], row[f"ci_{measure}_high"], text.locale),
        }
        for row in records(_shown(table))
    ]
    # Plain Python: 16 technologies in two waves, for which pandas' groupby and sort took 5 ms.
    shares: dict[str, list[float]] = {}
    for row in rows:
        shares.setdefault(row["item"], []).append(row["share"])
    spans = [
        {"item": item, "min": min(values), "max": max(values)} for item, values in shares.items() if len(values) > 1
    ]
    latest = [row for row in rows if row["wave"] == waves[-1]] if waves else rows
    order = [row["item"] for row in sorted(latest, key=lambda row: -row["share"])]
    order += [item for item in shares if item not in set(order)]
    return Figure(_waves_spec(tuple(order), waves, title, text, width), {"spans": spans, "points": rows})


@lru_cache(maxsize=SPECS_KEPT)
def _waves_spec(
    order: tuple[str, ...], waves: tuple[str, ...], title: str, text: ChartText, width: Width
) -> dict[str, Any]:
    y = alt.Y("item:N", sort=list(order), title=None)
    lines = (
        alt.Chart(alt.NamedData("spans"))
        .mark_rule(color="#6b6b6b", strokeWidth=2)
        .encode(
            x=alt.X("min:Q", title=title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            x2=alt.X2("max:Q"),
            y=y,
        )
    )
    dots = (
        alt.Chart(alt.NamedData("points"))
        .mark_point()
        .encode(
            x=alt.X("share:Q", title=title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            y=y,
            color=alt.Color(
                "wave:N",
                title=text.wave,
                sort=list(waves),
                scale=alt.Scale(domain=list(waves), range=[PALETTE[1], PALETTE[0], *PALETTE[2:]][: len(waves)]),
            ),
            shape=alt.Shape("wave:N", sort=list(waves), title=text.wave),
            tooltip=[
                alt.Tooltip("item:N", title=text.technology),
                alt.Tooltip("wave:N", title=text.wave),
                alt.Tooltip("share_text:N", title=title),
                alt.Tooltip("n:Q", title=text.organisations, format=","),
                alt.Tooltip("interval:N", title=text.interval),
            ],
        )
    )
    return _written(_sized(alt.layer(lines, dots), width, ROW * len(order)), text)


def to_spec(figure: Figure, validate: bool = True) -> dict[str, Any]:
    """The chart's whole Vega-Lite JSON: the spec and its data.

    Validating the spec against the Vega-Lite schema takes longer than building a report page's five charts, so
    the web app skips it: every builder's whole spec, data included, is checked by tests/test_charts.py."""
    if validate:
        validate_jsonschema(figure.spec, _schema())
    # A new top-level dict: the spec itself is shared with every page that draws the same chart (never change it).
    return {**figure.spec, "datasets": dict(figure.datasets)}


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return vega_lite.load_schema()


def fixed_width(figure: Figure, width: int = SVG_WIDTH) -> Figure:
    """The chart at `width` pixels where it takes its container's width, which only a browser has."""
    if figure.spec.get("width") != "container":
        return figure
    return Figure({**figure.spec, "width": width}, figure.datasets)


def to_svg(figure: Figure, width: int = SVG_WIDTH) -> str:
    """Render the chart on the server (for pages viewed without JavaScript), at a fixed width."""
    spec = to_spec(fixed_width(figure, width), validate=False)
    return vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION)


def javascript_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed in one script (window.vegaEmbed), matching the charts' version."""
    # The snippet is optional (vl-convert's documentation); its type stub says otherwise.
    return vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)  # type: ignore[call-arg]
