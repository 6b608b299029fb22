"""The report page, section by section: each one's numbers (suppressed), chart and the facts its summary
sentence states. The web view renders these; the SVG route draws one section's chart.

A section's `state` says what it can show: "shown"; "withheld" (too few responses: no numbers at all);
"choose_clusters" (the comparison needs clusters chosen); "one_wave" (nothing to compare with).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import Connection

from reports import charts, results
from reports.charts import ChartText
from reports.context import Key, Option, Survey
from reports.dimensions import Filters, PageQuery, Query
from reports.formatting import percent_for
from reports.frames import records
from reports.suppression import Disclosure


def N_(text: str) -> str:
    """Marks a text for the translation catalogues (`pybabel extract -k N_`) without translating it: the web
    app translates it for the reader when it shows it."""
    return text


class Cell(NamedTuple):
    """One cell of a table of shares (comparison, heat map, waves), as the page prints it.

    `state` is "shown" (with the share, its 95% interval and n as text), "withheld", or "empty" (the group
    has no row for the item). Made here once per cell, so that the template only prints them."""

    state: str
    share: str = ""
    interval: str = ""
    n: int = 0


WITHHELD = Cell("withheld")
EMPTY = Cell("empty")


@dataclass
class Section:
    name: str
    state: str = "shown"
    #: Rows for the HTML table, as plain dicts (numbers None where withheld). In the tables whose columns are
    #: groups, a row's `cells` are `Cell`s in the order of `columns`.
    rows: list[dict[str, Any]] = field(default_factory=list)
    #: Column headings of tables whose columns are groups (comparison, heat map, waves).
    columns: list[Option] = field(default_factory=list)
    chart: charts.Figure | None = None
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
    #: Results already read for this page: sections showing the same population share one query.
    read: dict[tuple[str, Filters], Any] = field(default_factory=dict)

    @property
    def percent(self) -> Callable[[float], str]:
        """Formats a share as the tables show it: as the charts do, in the reader's locale (`text.locale`)."""
        return percent_for(self.text.locale)

    def current(self) -> Disclosure:
        if self.disclosure is None:
            self.disclosure = results.disclosure_for(self.conn, (self.survey.wave_id,), self.k)
        return self.disclosure

    def query(self, **kwargs: Any) -> Query:
        return Query(wave_ids=(self.survey.wave_id,), **kwargs)

    def totals(self, filters: Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Adoption and challenges of the population these filters choose, read together."""
        if ("totals", filters) not in self.read:
            self.read[("totals", filters)] = results.adoption_and_challenges(
                self.conn, self.survey, self.query(filters=filters), self.k, self.current()
            )
        return self.read[("totals", filters)]

    def adoption(self, filters: Filters) -> pd.DataFrame:
        """Adoption of the population these filters choose (from `totals` when the page read those already)."""
        if ("totals", filters) in self.read:
            return self.read[("totals", filters)][0]
        if ("adoption", filters) not in self.read:
            self.read[("adoption", filters)] = results.adoption(
                self.conn, self.survey, self.query(filters=filters), self.k, self.current()
            )
        return self.read[("adoption", filters)]

    def by_cluster(self, filters: Filters) -> pd.DataFrame:
        """Adoption by cluster, every cluster the reader may see: the heat map, and the comparison's clusters."""
        if ("clusters", filters) not in self.read:
            only = None if self.visible_clusters is None else tuple(sorted(self.visible_clusters))
            self.read[("clusters", filters)] = results.adoption(
                self.conn, self.survey, self.query(by="cluster", filters=filters, only=only), self.k, self.current()
            )
        return self.read[("clusters", filters)]


def _share_cells(
    table: pd.DataFrame, share: str, interval: str, percent: Callable[[float], str]
) -> dict[tuple[str, Key | None], Cell]:
    """(item, group) -> the table cell of that group's share of the item, its interval and n."""
    names = ["item", "group", share, f"ci_{interval}_low", f"ci_{interval}_high", "n", "suppressed"]
    # Column by column into plain lists: reading a 100-cluster heat map row by row through pandas took a
    # quarter of the page's time.
    columns = [table[name].tolist() for name in names]
    return {
        (item, group): WITHHELD
        if suppressed
        else Cell("shown", percent(value), f"{percent(low)}–{percent(high)}", int(n))
        for item, group, value, low, high, n, suppressed in zip(*columns, strict=True)
    }


def _fact(row: dict[str, Any], share: str, interval: str) -> dict[str, Any]:
    return {
        "label": row["item_label"],
        "share": row[share],
        "n": row["n"],
        "low": row[f"ci_{interval}_low"],
        "high": row[f"ci_{interval}_high"],
    }


def adoption_section(ctx: PageContext) -> Section:
    """Chart 1: adoption by technology for the chosen population (one cluster if one is chosen)."""
    table = ctx.totals(ctx.page.cluster_filter)[0]
    section = Section("adoption", rows=records(table))
    shown = [row for row in section.rows if not row["suppressed"]]
    if not shown:
        section.state = "withheld"
        return section
    ranked = sorted(shown, key=lambda row: row["share_using"], reverse=True)
    section.facts = {
        "top": _fact(ranked[0], "share_using", "using"),
        "bottom": _fact(ranked[-1], "share_using", "using"),
    }
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
    total = ctx.adoption(ctx.page.filters)
    # The heat map's clusters, narrowed to those chosen (suppression was decided over all of them either way).
    groups = ctx.by_cluster(ctx.page.filters)
    groups = groups[groups["group"].isin(ctx.page.clusters)].reset_index(drop=True)
    section.columns = [ctx.survey.option("cluster", key) for key in ctx.page.clusters]
    totals = _share_cells(total, share, interval, ctx.percent)
    cells = _share_cells(groups, share, interval, ctx.percent)
    section.rows = [
        {
            "item": item,
            "item_label": label,
            "total": totals[(item, None)],
            "cells": [cells.get((item, key), EMPTY) for key in ctx.page.clusters],
        }
        for item, label in zip(total["item"].tolist(), total["item_label"].tolist(), strict=True)
    ]
    shown_groups = groups[~groups["suppressed"]]
    if total["suppressed"].all() and shown_groups.empty:
        section.state = "withheld"
        return section
    section.chart = charts.comparison_chart(groups, total, ctx.page.measure, ctx.text)
    merged = shown_groups.merge(total[~total["suppressed"]][["item", share]], on="item", suffixes=("", "_all"))
    if not merged.empty:
        gap = (merged[share] - merged[f"{share}_all"]).abs()
        row = merged.loc[gap.idxmax()]
        section.facts = {
            "cluster": row["group_label"],
            "technology": row["item_label"],
            "share": row[share],
            "all": row[f"{share}_all"],
            "n": row["n"],
        }
    return section


def heatmap_section(ctx: PageContext) -> Section:
    """Chart 3: every (visible) cluster by technology: share using, or using or planning."""
    share, interval = _measure_columns(ctx.page.measure)
    groups = ctx.by_cluster(ctx.page.filters)
    section = Section("heatmap")
    keys = list(dict.fromkeys(groups["group"].tolist()))
    section.columns = [ctx.survey.option("cluster", key) for key in keys]
    cells = _share_cells(groups, share, interval, ctx.percent)
    section.rows = [
        {"item": item.key, "item_label": item.label, "cells": [cells.get((str(item.key), key), EMPTY) for key in keys]}
        for item in ctx.survey.technologies
    ]
    shown = groups[~groups["suppressed"]]
    if shown.empty:
        section.state = "withheld"
        return section
    order = (
        shown.groupby("item_label", sort=False)[share].mean().sort_values(ascending=False, kind="stable").index.tolist()
    )
    section.chart = charts.heatmap_chart(groups, ctx.page.measure, order, ctx.text)
    best = shown.loc[shown[share].idxmax()]
    section.facts = {
        "cluster": best["group_label"],
        "technology": best["item_label"],
        "share": best[share],
        "n": best["n"],
    }
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
    later = keys[position + 1 :]
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
    cells = _share_cells(table, share, interval, ctx.percent)
    # The shares themselves, of the rows shown, for the change between the first and the last wave.
    shares = {
        (item, wave): value
        for item, wave, value, withheld in zip(
            *(table[name].tolist() for name in ("item", "group", share, "suppressed")), strict=True
        )
        if not withheld
    }
    for item in ctx.survey.technologies:
        code = str(item.key)
        first, last = shares.get((code, wave_ids[0])), shares.get((code, wave_ids[-1]))
        section.rows.append(
            {
                "item": item.key,
                "item_label": item.label,
                "cells": [cells.get((code, key), EMPTY) for key in wave_ids],
                "change": None if first is None or last is None else last - first,
                "from": first,
                "to": last,
            }
        )
    if table["suppressed"].all():
        section.state = "withheld"
        return section
    section.chart = charts.waves_chart(table, ctx.page.measure, ctx.text)
    changes = [row for row in section.rows if row["change"] is not None]
    if changes:
        row = max(changes, key=lambda r: abs(r["change"]))
        section.facts = {
            "technology": row["item_label"],
            "change": row["change"],
            "from": row["from"],
            "to": row["to"],
            "from_wave": section.columns[0].label,
            "to_wave": section.columns[-1].label,
        }
    return section


def challenges_section(ctx: PageContext) -> Section:
    """Chart 5: the five pandemic challenges by importance."""
    table = ctx.totals(ctx.page.cluster_filter)[1]
    section = Section("challenges", rows=records(table))
    shown = [row for row in section.rows if not row["suppressed"]]
    if not shown:
        section.state = "withheld"
        return section
    top = max(shown, key=lambda row: row["share_important"])
    section.facts = {"top": _fact(top, "share_important", "important")}
    section.chart = charts.challenges_chart(table, ctx.survey.challenge_scale, ctx.text)
    return section


@dataclass(frozen=True)
class SectionKind:
    """One section of a report: what the page, its chart images, the brief and the API know it by."""

    name: str
    #: Its heading wherever it is shown (the page, the brief, a chart's download), in English: translated for
    #: the reader by the web app.
    title: str
    build: Callable[[PageContext], Section]


#: What a report contains, in page order: the one list the page, the chart images and the brief read.
SECTIONS: tuple[SectionKind, ...] = (
    SectionKind("adoption", N_("Adoption by technology"), adoption_section),
    SectionKind("comparison", N_("Clusters compared with all clusters"), comparison_section),
    SectionKind("heatmap", N_("Clusters by technology"), heatmap_section),
    SectionKind("waves", N_("Change between waves"), waves_section),
    SectionKind("challenges", N_("Challenges since the pandemic"), challenges_section),
)
SECTION_NAMES: tuple[str, ...] = tuple(kind.name for kind in SECTIONS)
_KINDS = {kind.name: kind for kind in SECTIONS}


def section_titles(translate: Callable[[str], str] = str) -> dict[str, str]:
    """Section name -> its heading, in the reader's language when `translate` is gettext."""
    return {kind.name: translate(kind.title) for kind in SECTIONS}


def build_sections(ctx: PageContext, names: Iterable[str] = SECTION_NAMES) -> dict[str, Section]:
    """The named sections, in the order asked; reads shared between them are made once (`PageContext.read`)."""
    return {name: _KINDS[name].build(ctx) for name in names}
