"""The report page, section by section: each one's numbers (suppressed), chart and the facts its summary
sentence states. The web view renders these; the SVG route draws one section's chart.

A section's `state` says what it can show: "shown"; "withheld" (too few responses: no numbers at all);
"choose_clusters" (the comparison needs clusters chosen); "one_wave" (nothing to compare with).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
from sqlalchemy import Connection

from reports import charts, results
from reports.charts import ChartText
from reports.context import Option, Survey
from reports.dimensions import PageQuery, Query
from reports.suppression import Disclosure

#: Sections in page order.
SECTION_NAMES = ("adoption", "comparison", "heatmap", "waves", "challenges")


@dataclass
class Section:
    name: str
    state: str = "shown"
    #: Rows for the HTML table, as plain dicts (numbers None where withheld).
    rows: list[dict[str, Any]] = field(default_factory=list)
    #: Column headings of tables whose columns are groups (comparison, heat map, waves).
    columns: list[Option] = field(default_factory=list)
    chart: alt.TopLevelMixin | None = None
    #: What the one-sentence summary says (labels and numbers), empty when there is nothing to say.
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class PageContext:
    """Everything a section needs; one Disclosure per set of waves, so that sections agree on suppression."""

    conn: Connection
    survey: Survey
    page: PageQuery
    k: int
    visible_clusters: frozenset[int] | None
    text: ChartText
    disclosure: Disclosure | None = None

    def current(self) -> Disclosure:
        if self.disclosure is None:
            self.disclosure = results.disclosure_for(self.conn, (self.survey.wave_id,), self.k)
        return self.disclosure

    def query(self, **kwargs: Any) -> Query:
        return Query(wave_ids=(self.survey.wave_id,), **kwargs)


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with None (not NA or NaN) for missing numbers, ready for templates."""
    return [{key: (None if _missing(value) else value) for key, value in row.items()}
            for row in table.to_dict("records")]


def _missing(value: Any) -> bool:
    # Cheaper than pd.isna per value, which took a quarter of the page's time on a 100-cluster heat map.
    if isinstance(value, float | np.floating):
        return value != value  # NaN
    return value is None or value is pd.NA or value is pd.NaT


def _cells_by_item(table: pd.DataFrame, share: str, interval: str) -> dict[str, dict[Any, dict[str, Any]]]:
    """item -> group -> the figures of one table cell."""
    cells: dict[str, dict[Any, dict[str, Any]]] = {}
    for row in _records(table):
        cells.setdefault(row["item"], {})[row["group"]] = _cell(row, share, interval)
    return cells


def _fact(row: dict[str, Any], share: str, interval: str) -> dict[str, Any]:
    return {"label": row["item_label"], "share": row[share], "n": row["n"],
            "low": row[f"ci_{interval}_low"], "high": row[f"ci_{interval}_high"]}


def adoption_section(ctx: PageContext) -> Section:
    """Chart 1: adoption by technology for the chosen population (one cluster if one is chosen)."""
    table = results.adoption(ctx.conn, ctx.survey, ctx.query(filters=ctx.page.cluster_filter), ctx.k, ctx.current())
    section = Section("adoption", rows=_records(table))
    shown = [row for row in section.rows if not row["suppressed"]]
    if not shown:
        section.state = "withheld"
        return section
    ranked = sorted(shown, key=lambda row: row["share_using"], reverse=True)
    section.facts = {"top": _fact(ranked[0], "share_using", "using"),
                     "bottom": _fact(ranked[-1], "share_using", "using")}
    section.chart = charts.adoption_chart(table, ctx.survey.adoption_scale, ctx.text)
    return section


def _measure_columns(measure: str) -> tuple[str, str]:
    if measure == "using_or_planning":
        return "share_using_or_planning", "using_or_planning"
    return "share_using", "using"


def comparison_section(ctx: PageContext) -> Section:
    """Chart 2: the chosen clusters against all clusters, per technology."""
    section = Section("comparison")
    if not ctx.page.clusters:
        section.state = "choose_clusters"
        return section
    share, interval = _measure_columns(ctx.page.measure)
    total = results.adoption(ctx.conn, ctx.survey, ctx.query(filters=ctx.page.filters), ctx.k, ctx.current())
    groups = results.adoption(ctx.conn, ctx.survey,
                              ctx.query(by="cluster", filters=ctx.page.filters, only=ctx.page.clusters),
                              ctx.k, ctx.current())
    section.columns = [ctx.survey.option("cluster", key) for key in ctx.page.clusters]
    section.rows = _pivot(total, groups, share, interval)
    shown_groups = groups[~groups["suppressed"]]
    if total["suppressed"].all() and shown_groups.empty:
        section.state = "withheld"
        return section
    section.chart = charts.comparison_chart(groups, total, ctx.page.measure, ctx.text)
    merged = shown_groups.merge(total[~total["suppressed"]][["item", share]], on="item", suffixes=("", "_all"))
    if not merged.empty:
        gap = (merged[share] - merged[f"{share}_all"]).abs()
        row = merged.loc[gap.idxmax()]
        section.facts = {"cluster": row["group_label"], "technology": row["item_label"], "share": row[share],
                         "all": row[f"{share}_all"], "n": row["n"]}
    return section


def _pivot(total: pd.DataFrame, groups: pd.DataFrame, share: str, interval: str) -> list[dict[str, Any]]:
    """One row per technology: the total's figures, and each group's in `cells` keyed by group."""
    cells = _cells_by_item(groups, share, interval)
    return [{"item": item["item"], "item_label": item["item_label"], "total": _cell(item, share, interval),
             "cells": cells.get(item["item"], {})} for item in _records(total)]


def _cell(row: dict[str, Any], share: str, interval: str) -> dict[str, Any]:
    return {"share": row[share], "n": row["n"], "low": row[f"ci_{interval}_low"], "high": row[f"ci_{interval}_high"],
            "suppressed": row["suppressed"]}


def heatmap_section(ctx: PageContext) -> Section:
    """Chart 3: every (visible) cluster by technology: share using, or using or planning."""
    share, interval = _measure_columns(ctx.page.measure)
    only = None if ctx.visible_clusters is None else tuple(sorted(ctx.visible_clusters))
    groups = results.adoption(ctx.conn, ctx.survey, ctx.query(by="cluster", filters=ctx.page.filters, only=only),
                              ctx.k, ctx.current())
    section = Section("heatmap")
    keys = list(dict.fromkeys(groups["group"]))
    section.columns = [ctx.survey.option("cluster", key) for key in keys]
    cells = _cells_by_item(groups, share, interval)
    section.rows = [{"item": item.key, "item_label": item.label, "cells": cells.get(str(item.key), {})}
                    for item in ctx.survey.technologies]
    shown = groups[~groups["suppressed"]]
    if shown.empty:
        section.state = "withheld"
        return section
    order = (shown.groupby("item_label", sort=False)[share].mean().sort_values(ascending=False, kind="stable")
             .index.tolist())
    section.chart = charts.heatmap_chart(groups, ctx.page.measure, order, ctx.text)
    best = shown.loc[shown[share].idxmax()]
    section.facts = {"cluster": best["group_label"], "technology": best["item_label"], "share": best[share],
                     "n": best["n"]}
    return section


def compare_wave(survey: Survey, chosen: int | None) -> int | None:
    """The wave the waves chart compares with: the chosen one, else the latest one listed before this one."""
    if chosen is not None:
        return chosen
    keys = [int(option.key) for option in survey.options.get("wave", ())]
    position = keys.index(survey.wave_id) if survey.wave_id in keys else len(keys)
    earlier = keys[:position]
    if earlier:
        return earlier[-1]
    later = keys[position + 1:]
    return later[0] if later else None


def waves_section(ctx: PageContext) -> Section:
    """Chart 4: the change per technology between this wave and another one."""
    section = Section("waves")
    other = compare_wave(ctx.survey, ctx.page.compare_wave)
    if other is None:
        section.state = "one_wave"
        return section
    order = [int(option.key) for option in ctx.survey.options.get("wave", ())]
    wave_ids = tuple(sorted({other, ctx.survey.wave_id}, key=order.index))
    share, interval = _measure_columns(ctx.page.measure)
    query = Query(wave_ids=wave_ids, by="wave", filters=ctx.page.cluster_filter)
    table = results.adoption(ctx.conn, ctx.survey, query, ctx.k, results.disclosure_for(ctx.conn, wave_ids, ctx.k))
    section.columns = [ctx.survey.option("wave", key) for key in wave_ids]
    by_item = _cells_by_item(table, share, interval)
    for item in ctx.survey.technologies:
        cells = by_item.get(str(item.key), {})
        first, last = (cells.get(key) for key in (wave_ids[0], wave_ids[-1]))
        change = None
        if first and last and not first["suppressed"] and not last["suppressed"]:
            change = last["share"] - first["share"]
        section.rows.append({"item": item.key, "item_label": item.label, "cells": cells, "change": change})
    if table["suppressed"].all():
        section.state = "withheld"
        return section
    section.chart = charts.waves_chart(table, ctx.page.measure, ctx.text)
    changes = [row for row in section.rows if row["change"] is not None]
    if changes:
        row = max(changes, key=lambda r: abs(r["change"]))
        section.facts = {"technology": row["item_label"], "change": row["change"],
                         "from": row["cells"][wave_ids[0]]["share"], "to": row["cells"][wave_ids[-1]]["share"],
                         "from_wave": section.columns[0].label, "to_wave": section.columns[-1].label}
    return section


def challenges_section(ctx: PageContext) -> Section:
    """Chart 5: the five pandemic challenges by importance."""
    table = results.challenges(ctx.conn, ctx.survey, ctx.query(filters=ctx.page.cluster_filter), ctx.k, ctx.current())
    section = Section("challenges", rows=_records(table))
    shown = [row for row in section.rows if not row["suppressed"]]
    if not shown:
        section.state = "withheld"
        return section
    top = max(shown, key=lambda row: row["share_important"])
    section.facts = {"top": _fact(top, "share_important", "important")}
    section.chart = charts.challenges_chart(table, ctx.survey.challenge_scale, ctx.text)
    return section


BUILDERS: dict[str, Callable[[PageContext], Section]] = {
    "adoption": adoption_section,
    "comparison": comparison_section,
    "heatmap": heatmap_section,
    "waves": waves_section,
    "challenges": challenges_section,
}


def build_sections(ctx: PageContext, names: Iterable[str] = SECTION_NAMES) -> dict[str, Section]:
    return {name: BUILDERS[name](ctx) for name in names}
