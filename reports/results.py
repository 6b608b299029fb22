"""The numbers reports show: counts per answer, shares and intervals, with suppression applied.

Every function returns a tidy frame with one row per (wave, group, item). Withheld rows keep their keys and
labels, have `suppressed` set, and hold no numbers at all (NA), so no output built from them can leak one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from reports.aggregate import count_answers, group_sizes, invitations_per_cluster, wave_protection
from reports.context import Key, Survey
from reports.dimensions import Query
from reports.frames import records
from reports.statistics import wilson_interval
from reports.suppression import Disclosure
from survey.models.tallies import RESPONSES_ITEM

#: The adoption scale's codes, which the API names in its rows.
ADOPTION_ANSWERS = ["using", "planning", "not_planned", "dont_know"]
#: Challenge answers that count as "important".
IMPORTANT = ["4", "5"]

#: Stands for "no breakdown" in the group column while frames are merged (None does not survive a merge).
_NO_GROUP = ""


def disclosure_for(conn: Connection, wave_ids: Sequence[int], k: int) -> Disclosure:
    """The suppression decisions for one report, reading group sizes from the tally as they are needed."""
    return Disclosure(
        lambda filters, by: group_sizes(conn, wave_ids, filters, by),
        lambda wave_id: wave_protection(conn, wave_id, k),
        wave_ids,
        k,
    )


def _groups(query: Query, responses: pd.DataFrame, disclosure: Disclosure) -> list[tuple[int, Key, int, bool]]:
    """The groups a result has rows for, as (wave_id, group, responses, withheld), suppression decided."""
    if query.by is None:
        disclosure.prime(query.filters, None, responses)
        cell = disclosure.cell_withheld(query.filters)
        totals = dict.fromkeys(query.wave_ids, 0)
        for wave, n in zip(responses["wave_id"].tolist(), responses["n"].tolist(), strict=True):
            totals[wave] += n
        return [(wave, _NO_GROUP, totals[wave], cell[wave]) for wave in query.wave_ids]
    disclosure.prime(query.filters, None if query.by == "wave" else query.by, responses)
    groups = disclosure.breakdown(query.filters, query.by)
    rows = zip(*(groups[name].tolist() for name in ("wave_id", "group", "n", "withheld")), strict=True)
    return [row for row in rows if query.only is None or row[1] in query.only]


def answer_table(
    conn: Connection,
    survey: Survey,
    query: Query,
    items: Sequence[str],
    codes: Sequence[str],
    k: int,
    disclosure: Disclosure | None = None,
    counts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Counts per answer code for each (wave, group, item), with n, the group's responses and `suppressed`.

    A group is withheld by the rules in `reports.suppression`; a row is also withheld when fewer than k
    answered its item (possible only for optional items: every required item has n equal to the group's).
    Numbers of withheld rows are still present here; `blank_suppressed` removes them. `counts` are the query's
    counts (`count_answers`) when already read, for at least these items and codes.
    """
    return _frame(_answer_columns(conn, survey, query, items, codes, k, disclosure, counts), query.by)


def _frame(columns: dict[str, Any], by: str | None) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    if frame.empty:  # no group at all: give the columns the types they have when there are rows
        frame = frame.astype({name: _empty_dtype(name, by) for name in frame.columns})
    return frame


def _empty_dtype(column: str, by: str | None) -> Any:
    if column == "suppressed":
        return bool
    if column in ("item", "item_label", "wave_value", "wave_label"):
        return "str"
    if column == "group":
        return "int64" if by == "wave" else object
    if column.startswith(("share_", "ci_")) or column in ("group_value", "group_label"):
        return "float64"
    return "int64"  # wave_id, group_n, n and the counts


def _answer_columns(
    conn: Connection,
    survey: Survey,
    query: Query,
    items: Sequence[str],
    codes: Sequence[str],
    k: int,
    disclosure: Disclosure | None,
    counts: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """`answer_table`'s columns, as lists in its row order: by wave, item and group (each in display order)."""
    disclosure = disclosure or disclosure_for(conn, query.wave_ids, k)
    if counts is None:
        counts = count_answers(conn, query.wave_ids, [*items, RESPONSES_ITEM], codes, query.filters, query.by)
    if query.by is None:
        counts = counts.assign(group=_NO_GROUP)
    elif query.by == "wave":
        counts = counts.assign(group=counts["wave_id"])
    is_responses = counts["item"] == RESPONSES_ITEM
    responses = counts[is_responses][["wave_id", "group", "total"]].rename(columns={"total": "n"})
    groups = _groups(query, responses, disclosure)

    # Plain lists and dicts from here on: merging, sorting and labelling 1,700 rows with pandas took several
    # times as long as the query. One row per group and item; answers not given count 0.
    answers = {
        (wave, group, item): per_code
        for wave, group, item, *per_code in zip(
            *(counts[name].tolist() for name in ("wave_id", "group", "item", *codes)), strict=True
        )
    }
    zero = [0] * len(codes)
    # Rows by wave, then item, then group: the groups sorted once (display order, then key), items as asked.
    group_order = survey.order(query.by) if query.by else {}
    groups = sorted(groups, key=lambda group: (group_order.get(group[1], len(group_order)), str(group[1])))
    rows = [
        (wave, group, group_n, withheld, item)
        for wave in query.wave_ids
        for item in items
        for group_wave, group, group_n, withheld in groups
        if group_wave == wave
    ]
    per_code = [answers.get((wave, group, item), zero) for wave, group, _, _, item in rows]
    n = [sum(row) for row in per_code]
    columns: dict[str, Any] = {
        "wave_id": [row[0] for row in rows],
        "group": [row[1] for row in rows],
        "group_n": [row[2] for row in rows],
        "item": [row[4] for row in rows],
    }
    for index, code in enumerate(codes):
        columns[code] = [row[index] for row in per_code]
    columns["n"] = n
    # Withheld: the group (reports.protection), fewer than k answers to the item (optional items), or the
    # group's answers to the item all alike (the dominance rule).
    columns["suppressed"] = [
        bool(row[3]) or total < k or disclosure.answers_withheld(query.filters, query.by, row[0], row[1], row[4])
        for row, total in zip(rows, n, strict=True)
    ]

    if query.by is None:
        columns["group"] = columns["group_value"] = columns["group_label"] = [None] * len(rows)
    else:
        options = {key: survey.option(query.by, key) for key in dict.fromkeys(columns["group"])}
        columns["group_value"] = [options[key].value for key in columns["group"]]
        columns["group_label"] = [options[key].label for key in columns["group"]]
    labels = {str(option.key): option.label for option in (*survey.technologies, *survey.challenges)}
    columns["item_label"] = [labels.get(item, item) for item in columns["item"]]
    waves = {key: survey.option("wave", key) for key in query.wave_ids}
    columns["wave_value"] = [waves[key].value for key in columns["wave_id"]]
    columns["wave_label"] = [waves[key].label for key in columns["wave_id"]]
    return columns


def blank_suppressed(table: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Remove every number from withheld rows (counts become NA, shares and intervals NaN)."""
    if not table["suppressed"].any():
        return table
    table = table.copy()
    for column in columns:
        if pd.api.types.is_integer_dtype(table[column]):
            table[column] = table[column].astype("Int64")
        table[column] = table[column].mask(table["suppressed"])
    return table


def _share(count: np.ndarray, n: np.ndarray) -> np.ndarray:
    """count / n, NaN where n is 0."""
    return np.divide(count, n, out=np.full(len(n), np.nan), where=n > 0)


def _suppressed_frame(columns: dict[str, Any], by: str | None) -> pd.DataFrame:
    """The frame of a result's columns, every number removed from withheld rows as `blank_suppressed` does
    (counts NA, shares and intervals NaN), made in one go rather than column by column."""
    suppressed = np.asarray(columns["suppressed"], dtype=bool)
    if suppressed.any():
        for name in _numbers(columns):
            values = columns[name]
            if isinstance(values, np.ndarray):  # shares and intervals
                columns[name] = np.where(suppressed, np.nan, values)
            else:  # counts
                columns[name] = pd.array(
                    [None if gone else value for value, gone in zip(values, suppressed, strict=True)], dtype="Int64"
                )
    return _frame(columns, by)


def adoption(
    conn: Connection,
    survey: Survey,
    query: Query,
    k: int,
    disclosure: Disclosure | None = None,
    counts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Adoption of each technology per wave and group: counts, shares and Wilson 95% intervals.

    Columns: wave_id, wave_value, wave_label, group, group_value, group_label, item (the technology code),
    item_label, group_n, n, one count per answer code, share_<code>, share_using_or_planning,
    ci_using_low/high, ci_using_or_planning_low/high, suppressed. `counts`: see `answer_table`.
    """
    columns = _answer_columns(conn, survey, query, survey.technology_codes, ADOPTION_ANSWERS, k, disclosure, counts)
    n = np.asarray(columns["n"], dtype=float)
    for code in ADOPTION_ANSWERS:
        columns[f"share_{code}"] = _share(np.asarray(columns[code], dtype=float), n)
    using = np.asarray(columns["using"], dtype=float)
    using_or_planning = using + np.asarray(columns["planning"], dtype=float)
    columns["share_using_or_planning"] = _share(using_or_planning, n)
    columns["ci_using_low"], columns["ci_using_high"] = wilson_interval(using, n)
    columns["ci_using_or_planning_low"], columns["ci_using_or_planning_high"] = wilson_interval(using_or_planning, n)
    return _suppressed_frame(columns, query.by)


def challenges(
    conn: Connection,
    survey: Survey,
    query: Query,
    k: int,
    disclosure: Disclosure | None = None,
    counts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The pandemic challenges: counts and shares per importance level, and the share rating them 4 or 5."""
    codes = [str(option.key) for option in survey.challenge_scale]
    columns = _answer_columns(conn, survey, query, survey.challenge_codes, codes, k, disclosure, counts)
    n = np.asarray(columns["n"], dtype=float)
    for code in codes:
        columns[f"share_{code}"] = _share(np.asarray(columns[code], dtype=float), n)
    important = sum((np.asarray(columns[code], dtype=float) for code in IMPORTANT if code in codes), np.zeros(len(n)))
    columns["share_important"] = _share(important, n)
    columns["ci_important_low"], columns["ci_important_high"] = wilson_interval(important, n)
    return _suppressed_frame(columns, query.by)


def adoption_and_challenges(
    conn: Connection, survey: Survey, query: Query, k: int, disclosure: Disclosure | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`adoption` and `challenges` for the same query, from one read of the tally (a report page shows both)."""
    disclosure = disclosure or disclosure_for(conn, query.wave_ids, k)
    codes = list(dict.fromkeys([*ADOPTION_ANSWERS, *(str(option.key) for option in survey.challenge_scale)]))
    items = [*survey.technology_codes, *survey.challenge_codes, RESPONSES_ITEM]
    counts = count_answers(conn, query.wave_ids, items, codes, query.filters, query.by)
    return (
        adoption(conn, survey, query, k, disclosure, counts),
        challenges(conn, survey, query, k, disclosure, counts),
    )


def _numbers(table: pd.DataFrame | dict[str, Any]) -> list[str]:
    keys = {
        "wave_id",
        "group",
        "item",
        "suppressed",
        "group_value",
        "group_label",
        "item_label",
        "wave_value",
        "wave_label",
    }
    return [column for column in (table.columns if isinstance(table, pd.DataFrame) else table) if column not in keys]


def api_rows(table: pd.DataFrame, by: str | None, digits: int = 4) -> list[dict[str, object]]:
    """`adoption` rows in the JSON API's shape: counts, shares and interval null where a row is withheld."""
    # Column by column into plain lists: DataFrame.to_dict would cost more than the whole query.
    names = [
        "item",
        "group_value",
        "suppressed",
        "n",
        *ADOPTION_ANSWERS,
        "share_using",
        "share_planning",
        "ci_using_low",
        "ci_using_high",
    ]
    columns = {name: table[name].tolist() for name in names}
    rows: list[dict[str, object]] = []
    for i in range(len(table)):
        withheld = bool(columns["suppressed"][i])
        out: dict[str, object] = {"technology": columns["item"][i]}
        if by is not None:
            out[by] = columns["group_value"][i]
        for name in ("n", *ADOPTION_ANSWERS):
            out[name] = None if withheld else int(columns[name][i])
        for name in ("share_using", "share_planning"):
            out[name] = None if withheld else round(float(columns[name][i]), digits)
        out["ci_using"] = (
            None
            if withheld
            else [round(float(columns["ci_using_low"][i]), digits), round(float(columns["ci_using_high"][i]), digits)]
        )
        out["suppressed"] = withheld
        rows.append(out)
    return rows


def api_challenge_rows(
    table: pd.DataFrame, by: str | None, codes: Sequence[str], digits: int = 4
) -> list[dict[str, object]]:
    """The JSON API's rows of `challenges`: counts per importance level, the share rating 4 or 5 and its
    interval; every number None where the group is withheld."""
    rows: list[dict[str, object]] = []
    for row in records(table):
        withheld = bool(row["suppressed"])
        out: dict[str, object] = {"challenge": row["item"]}
        if by is not None:
            out[by] = row["group_value"]
        out["n"] = None if withheld else int(row["n"])
        out["counts"] = None if withheld else {code: int(row[code]) for code in codes}
        out["share_important"] = None if withheld else round(float(row["share_important"]), digits)
        out["ci_important"] = (
            None
            if withheld
            else [round(float(row["ci_important_low"]), digits), round(float(row["ci_important_high"]), digits)]
        )
        out["suppressed"] = withheld
        rows.append(out)
    return rows


def response_rates(
    conn: Connection,
    survey: Survey,
    k: int,
    visible_clusters: Iterable[int] | None = None,
    disclosure: Disclosure | None = None,
    invitations: tuple[dict[int, int], int] | None = None,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Responses and response rate per cluster, and for all clusters together, in the survey's wave.

    Invited: organisations with an invitation to the wave that are members of the cluster now
    (`invitations_per_cluster`, which the web app passes in from its cache). Responses: as counted at submission
    (an organisation's clusters are kept as they were when it answered). Responses and rate are withheld exactly
    where the cluster breakdown of adoption is withheld.
    """
    disclosure = disclosure or disclosure_for(conn, (survey.wave_id,), k)
    groups = disclosure.breakdown((), "cluster")
    responses = {int(row.group): (int(row.n), bool(row.withheld)) for row in groups.itertuples()}
    invited, invited_total = invitations or invitations_per_cluster(conn, survey.wave_id)
    visible = None if visible_clusters is None else set(visible_clusters)
    rows = []
    for option in survey.options.get("cluster", ()):
        cluster_id = int(option.key)
        if visible is not None and cluster_id not in visible:
            continue
        n, withheld = responses.get(cluster_id, (0, True))
        if not n and not invited.get(cluster_id):
            continue
        rows.append(
            {
                "group": cluster_id,
                "group_value": option.value,
                "group_label": option.label,
                "invited": invited.get(cluster_id, 0),
                "responses": n,
                "suppressed": withheld or n < k,
            }
        )
    table = pd.DataFrame(rows, columns=["group", "group_value", "group_label", "invited", "responses", "suppressed"])
    table["rate"] = table["responses"] / table["invited"].where(table["invited"] > 0)
    table = blank_suppressed(table, ["responses", "rate"])
    total_n = int(disclosure.sizes((), None)["n"].sum())
    total_withheld = disclosure.cell_withheld(())[survey.wave_id]
    total: dict[str, object] = {
        "invited": invited_total,
        "responses": None if total_withheld else total_n,
        "rate": None if total_withheld or not invited_total else total_n / invited_total,
        "suppressed": total_withheld,
    }
    return table, total
