"""The tables behind a report page, as downloads: tidy long CSV with a codebook, XLSX, JSON.

`report_tables` asks `reports.results` for the same suppressed frames the page shows (same filters, same
scope, one Disclosure, so every output agrees on what is withheld); the writers below turn frames into bytes.
Withheld rows keep their keys and labels and carry no number in any format.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell

from reports import results
from reports.context import Survey
from reports.sections import PageContext
from survey.cache import cached_invitations
from survey.exports.files import csv_text, spreadsheet_safe

#: Table name -> (sheet title, what it holds).
TABLES: dict[str, tuple[Any, Any]] = {
    "responses": (
        _l("Responses"),
        _l("Organisations invited and responses per cluster, and for all clusters together."),
    ),
    "adoption": (
        _l("Adoption"),
        _l("Adoption of each technology in the population shown (one cluster if one is chosen)."),
    ),
    "adoption_by_cluster": (_l("Adoption by cluster"), _l("Adoption of each technology in each cluster you may see.")),
    "challenges": (
        _l("Challenges"),
        _l("Importance of the pandemic challenges (1 = not important … 5 = very important)."),
    ),
}

#: Key columns of every wide table, in order.
KEYS = ["wave", "group_dimension", "group", "group_label", "item", "item_label", "suppressed"]

#: Measure -> what it means (the codebook's wording). Per-answer shares are share_<answer code>.
MEASURES: dict[str, Any] = {
    "invited": _l("Organisations of the cluster invited to the wave"),
    "responses": _l("Responses counted in the group"),
    "rate": _l("Response rate: responses / invited"),
    "group_n": _l("Responses in the group"),
    "n": _l("Answers to the item in the group (the denominator of every share)"),
    "share_using_or_planning": _l("(using + planning) / n"),
    "ci_using_low": _l("Wilson interval (95%) of share_using, lower bound"),
    "ci_using_high": _l("Wilson interval (95%) of share_using, upper bound"),
    "ci_using_or_planning_low": _l("Wilson interval (95%) of share_using_or_planning, lower bound"),
    "ci_using_or_planning_high": _l("Wilson interval (95%) of share_using_or_planning, upper bound"),
    "share_important": _l("Share rating the challenge 4 or 5"),
    "ci_important_low": _l("Wilson interval (95%) of share_important, lower bound"),
    "ci_important_high": _l("Wilson interval (95%) of share_important, upper bound"),
}

COLUMNS_DOC: dict[str, Any] = {
    "table": _l("Which table the row belongs to (see the 'table' rows of this codebook)"),
    "wave": _l("Survey wave (slug)"),
    "group_dimension": _l("What the groups are (cluster, or empty for the whole population shown)"),
    "group": _l("The group's code or slug; 'all' for all clusters together, empty when there is no breakdown"),
    "group_label": _l("The group's name"),
    "item": _l("Technology or challenge code (empty for response counts)"),
    "item_label": _l("Technology or challenge name"),
    "measure": _l("What the value is (see the 'measure' rows of this codebook)"),
    "value": _l("The number; empty where the row is withheld"),
    "suppressed": _l(
        "true when withheld: fewer than k responses, withheld so that another cannot be derived, or answers all alike"
    ),
}


@dataclass
class ReportTables:
    """Every table of one report view, plus what the About sheet and the brief say about it."""

    survey: Survey
    k: int
    filters: dict[str, list[str]]
    generated_at: datetime
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: Responses and invitations for all clusters together (None where withheld).
    total: dict[str, Any] = field(default_factory=dict)
    wave_dates: tuple[str, str] = ("", "")


def report_tables(
    ctx: PageContext, filters: dict[str, list[str]], generated_at: datetime, wave_dates: tuple[str, str] = ("", "")
) -> ReportTables:
    """The page's tables for the page's filters and the user's scope, suppressed exactly as on the page."""
    disclosure = ctx.current()
    # The page's own reads (`PageContext`), so that a brief drawing the page's charts beside these tables reads
    # each population once and shows the same frames.
    adoption, challenges = ctx.totals(ctx.page.cluster_filter)
    by_cluster = ctx.by_cluster(ctx.page.filters)
    rates, total = results.response_rates(
        ctx.conn, ctx.survey, ctx.k, ctx.visible_clusters, disclosure, cached_invitations(ctx.conn, ctx.survey.wave_id)
    )
    wave = ctx.survey.slug
    rate_rows = [
        {
            "wave": wave,
            "group_dimension": "cluster",
            "group": row["group_value"],
            "group_label": row["group_label"],
            "item": "",
            "item_label": "",
            "suppressed": bool(row["suppressed"]),
            "invited": row["invited"],
            "responses": row["responses"],
            "rate": row["rate"],
        }
        for row in rates.to_dict("records")
    ]
    rate_rows.append(
        {
            "wave": wave,
            "group_dimension": "cluster",
            "group": "all",
            "group_label": _("All clusters"),
            "item": "",
            "item_label": "",
            "suppressed": bool(total["suppressed"]),
            "invited": total["invited"],
            "responses": total["responses"],
            "rate": total["rate"],
        }
    )
    tables = {
        "responses": pd.DataFrame(rate_rows, columns=[*KEYS, "invited", "responses", "rate"]).astype(
            {"invited": "Int64", "responses": "Int64", "rate": "Float64"}
        ),
        "adoption": _wide(adoption, None),
        "adoption_by_cluster": _wide(by_cluster, "cluster"),
        "challenges": _wide(challenges, None),
    }
    return ReportTables(ctx.survey, ctx.k, filters, generated_at, tables, total, wave_dates)


def _wide(table: pd.DataFrame, dimension: str | None) -> pd.DataFrame:
    """A results frame with the public key columns first and the numbers after (no database ids)."""
    numbers = [
        c
        for c in table.columns
        if c
        not in {
            "wave_id",
            "wave_value",
            "wave_label",
            "group",
            "group_value",
            "group_label",
            "item",
            "item_label",
            "suppressed",
        }
    ]
    out = pd.DataFrame(
        {
            "wave": table["wave_value"],
            "group_dimension": dimension or "",
            "group": table["group_value"].fillna("") if dimension else "",
            "group_label": table["group_label"].fillna("") if dimension else "",
            "item": table["item"],
            "item_label": table["item_label"],
            "suppressed": table["suppressed"].astype(bool),
        }
    )
    for column in numbers:
        out[column] = table[column]
    return out.reset_index(drop=True)


def _number(value: Any) -> int | float | None:
    """A plain Python number, or None for a missing one (NA, NaN)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def long_rows(report: ReportTables) -> Iterator[list[Any]]:
    """Tidy long form: one row per table, wave, group, item and measure."""
    for name, table in report.tables.items():
        measures = [c for c in table.columns if c not in KEYS]
        for row in table.to_dict("records"):
            keys = [
                name,
                row["wave"],
                row["group_dimension"],
                row["group"],
                row["group_label"],
                row["item"],
                row["item_label"],
            ]
            for measure in measures:
                value = None if row["suppressed"] else _number(row[measure])
                yield [*keys, measure, value, "true" if row["suppressed"] else "false"]


LONG_HEADER = [
    "table",
    "wave",
    "group_dimension",
    "group",
    "group_label",
    "item",
    "item_label",
    "measure",
    "value",
    "suppressed",
]


def to_csv(report: ReportTables) -> bytes:
    return csv_text(LONG_HEADER, long_rows(report)).encode("utf-8")


def codebook_rows(report: ReportTables) -> list[list[str]]:
    """What every column, table, measure and code in the downloads means."""
    survey = report.survey
    rows = [["column", name, str(text)] for name, text in COLUMNS_DOC.items()]
    rows += [["table", name, str(text)] for name, (_title, text) in TABLES.items()]
    measures = {name: str(text) for name, text in MEASURES.items()}
    for option in survey.adoption_scale:
        measures.setdefault(str(option.key), _("Answers “%(answer)s”", answer=option.label))
        measures.setdefault(f"share_{option.key}", _("Share answering “%(answer)s” (of n)", answer=option.label))
    for option in survey.challenge_scale:
        measures.setdefault(str(option.key), _("Answers “%(answer)s” (challenges)", answer=option.label))
        measures.setdefault(f"share_{option.key}", _("Share answering “%(answer)s” (of n)", answer=option.label))
    rows += [["measure", name, text] for name, text in measures.items()]
    rows += [["technology", str(o.key), o.label] for o in survey.technologies]
    rows += [["challenge", str(o.key), o.label] for o in survey.challenges]
    rows += [["cluster", o.value, o.label] for o in _visible_clusters(report)]
    return rows


def _visible_clusters(report: ReportTables) -> Iterable[Any]:
    shown = set(report.tables["responses"]["group"]) | set(report.tables["adoption_by_cluster"]["group"])
    return [o for o in report.survey.options.get("cluster", ()) if o.value in shown]


CODEBOOK_HEADER = ["kind", "code", "meaning"]


def codebook_csv(report: ReportTables) -> bytes:
    return csv_text(CODEBOOK_HEADER, codebook_rows(report)).encode("utf-8")


def about_rows(report: ReportTables) -> list[tuple[str, str, Any]]:
    """Method and metadata, for the XLSX About sheet, the JSON download and the brief: (key, label in the
    reader's language, value). Keys stay English, so that the JSON reads the same in every language."""
    total = report.total
    filters = "; ".join(f"{name}={','.join(values)}" for name, values in sorted(report.filters.items())) or "none"
    return [
        ("Survey", _("Survey"), report.survey.title),
        ("Wave", _("Wave"), report.survey.slug),
        ("Opens", _("Opens"), report.wave_dates[0]),
        ("Closes", _("Closes"), report.wave_dates[1]),
        ("Filters", _("Filters"), filters),
        ("Generated (UTC)", _("Generated (UTC)"), report.generated_at.strftime("%Y-%m-%d %H:%M")),
        ("Organisations invited", _("Organisations invited"), total.get("invited")),
        ("Responses", _("Responses"), total.get("responses")),
        ("Response rate", _("Response rate"), total.get("rate")),
        ("Minimum cell size (k)", _("Minimum cell size (k)"), report.k),
        (
            "Shares",
            _("Shares"),
            _("Answers / n, where n counts every answer to the item (“don't know” included)."),
        ),
        ("Intervals", _("Intervals"), _("Wilson score intervals at 95% (z = 1.96).")),
        (
            "Suppression",
            _("Suppression"),
            _(
                "A group with fewer than %(k)d responses is withheld, and so is any group that, with the other "
                "figures published for the wave, would let a withheld one be worked out; a group's answers to a "
                "question are withheld where all its organisations gave the same answer. No withheld figure can "
                "be narrowed down by combining published ones (see docs/reports.md).",
                k=report.k,
            ),
        ),
        (
            "Clusters",
            _("Clusters"),
            _("An organisation in several clusters counts once in each; totals count it once."),
        ),
    ]


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", str(spreadsheet_safe(value)))
    if isinstance(value, bool):
        return value
    return _number(value)


def _append(sheet, values: Iterable[Any]) -> None:
    """A row whose text cells are stored as text, never as formulas, and whose numbers stay numbers."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
        if isinstance(cell.value, str):
            cell.data_type = "s"  # openpyxl would take a leading "=" as a formula otherwise
        cells.append(cell)
    sheet.append(cells)


def to_xlsx(report: ReportTables) -> bytes:
    """A sheet per table (withheld rows: empty number cells), a Codebook sheet and an About sheet."""
    book = Workbook(write_only=True)
    for name, table in report.tables.items():
        sheet = book.create_sheet(str(TABLES[name][0])[:31])  # Excel's longest sheet name
        _append(sheet, list(table.columns))
        for row in table.itertuples(index=False):
            values = list(row)
            if row.suppressed:
                values = values[: len(KEYS)] + [None] * (len(values) - len(KEYS))
            _append(sheet, values)
    codebook = book.create_sheet(_("Codebook")[:31])
    _append(codebook, CODEBOOK_HEADER)
    for row in codebook_rows(report):
        _append(codebook, row)
    about = book.create_sheet(_("About")[:31])
    _append(about, [_("Item"), _("Value")])
    for _key, label, value in about_rows(report):
        _append(about, [label, value])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_json(report: ReportTables) -> bytes:
    """The tables as JSON records, withheld numbers as null."""
    tables = {}
    for name, table in report.tables.items():
        records = []
        for row in table.to_dict("records"):
            out = {}
            for key, value in row.items():
                if key in KEYS:
                    out[key] = bool(value) if key == "suppressed" else value
                else:
                    out[key] = None if row["suppressed"] else _number(value)
            records.append(out)
        tables[name] = records
    document = {
        "survey": report.survey.slug,
        "title": report.survey.title,
        "min_cell": report.k,
        "filters": report.filters,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "about": {key: value for key, _label, value in about_rows(report)},
        "tables": tables,
    }
    return json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8")
