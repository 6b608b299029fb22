"""The numbers reports show: counts per answer, shares and intervals, with suppression applied.

Every function returns a tidy frame with one row per (wave, group, item). Withheld rows keep their keys and
labels, have `suppressed` set, and hold no numbers at all (NA), so no output built from them can leak one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
from sqlalchemy import Connection

from reports.aggregate import count_answers, group_sizes, invitations_per_cluster
from reports.context import Survey
from reports.dimensions import Query
from reports.statistics import add_interval, add_shares
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
    return Disclosure(lambda filters, by: group_sizes(conn, wave_ids, filters, by), wave_ids, k)


def _groups(query: Query, responses: pd.DataFrame, disclosure: Disclosure) -> pd.DataFrame:
    """The groups a result has rows for (wave_id, group, group_n, withheld), suppression decided."""
    if query.by is None:
        disclosure.prime(query.filters, None, responses)
        cell = disclosure.cell_withheld(query.filters)
        totals = responses.groupby("wave_id")["n"].sum()
        groups = pd.DataFrame({
            "wave_id": list(query.wave_ids),
            "group": [_NO_GROUP] * len(query.wave_ids),
            "n": [int(totals.get(wave, 0)) for wave in query.wave_ids],
            "withheld": [cell[wave] for wave in query.wave_ids],
        })
    else:
        disclosure.prime(query.filters, None if query.by == "wave" else query.by, responses)
        groups = disclosure.breakdown(query.filters, query.by)
        if query.only is not None:
            groups = groups[groups["group"].isin(list(query.only))]
    return groups.rename(columns={"n": "group_n"}).reset_index(drop=True)


def answer_table(conn: Connection, survey: Survey, query: Query, items: Sequence[str], codes: Sequence[str],
                 k: int, disclosure: Disclosure | None = None) -> pd.DataFrame:
    """Counts per answer code for each (wave, group, item), with n, the group's responses and `suppressed`.

    A group is withheld by the rules in `reports.suppression`; a row is also withheld when fewer than k
    answered its item (possible only for optional items: every required item has n equal to the group's).
    Numbers of withheld rows are still present here; `blank_suppressed` removes them.
    """
    disclosure = disclosure or disclosure_for(conn, query.wave_ids, k)
    counts = count_answers(conn, query.wave_ids, [*items, RESPONSES_ITEM], codes, query.filters, query.by)
    if query.by is None:
        counts["group"] = _NO_GROUP
    elif query.by == "wave":
        counts["group"] = counts["wave_id"]
    is_responses = counts["item"] == RESPONSES_ITEM
    responses = counts[is_responses][["wave_id", "group", "total"]].rename(columns={"total": "n"})
    groups = _groups(query, responses, disclosure)

    answers = counts[~is_responses].drop(columns="total")
    keys = groups.merge(pd.DataFrame({"item": list(items)}), how="cross")
    table = keys.merge(answers, how="left", on=["wave_id", "group", "item"])
    for code in codes:
        table[code] = table[code].fillna(0).astype("int64")
    table["n"] = table[list(codes)].sum(axis=1).astype("int64")
    table["suppressed"] = table["withheld"] | (table["n"] < k)
    table = table.drop(columns="withheld")
    return _label_and_sort(table, survey, query, items)


def _label_and_sort(table: pd.DataFrame, survey: Survey, query: Query, items: Sequence[str]) -> pd.DataFrame:
    """Order rows by wave, item and group (each in display order), and add the public values and labels."""
    dimension = query.by
    group_order = survey.order(dimension) if dimension else {}
    table = table.assign(
        _wave=table["wave_id"].map({wave: index for index, wave in enumerate(query.wave_ids)}),
        _item=table["item"].map({item: index for index, item in enumerate(items)}),
        _group=table["group"].map(group_order).fillna(len(group_order)),
        _key=table["group"].astype(str),
    ).sort_values(["_wave", "_item", "_group", "_key"]).drop(columns=["_wave", "_item", "_group", "_key"])
    if dimension is None:
        table["group"] = None
        table["group_value"] = None
        table["group_label"] = None
    else:
        options = {key: survey.option(dimension, key) for key in table["group"].unique()}
        table["group_value"] = table["group"].map({key: option.value for key, option in options.items()})
        table["group_label"] = table["group"].map({key: option.label for key, option in options.items()})
    labels = {str(option.key): option.label for option in (*survey.technologies, *survey.challenges)}
    table["item_label"] = table["item"].map({item: labels.get(item, item) for item in items})
    waves = {key: survey.option("wave", key) for key in query.wave_ids}
    table["wave_value"] = table["wave_id"].map({key: option.value for key, option in waves.items()})
    table["wave_label"] = table["wave_id"].map({key: option.label for key, option in waves.items()})
    return table.reset_index(drop=True)


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


def adoption(conn: Connection, survey: Survey, query: Query, k: int,
             disclosure: Disclosure | None = None) -> pd.DataFrame:
    """Adoption of each technology per wave and group: counts, shares and Wilson 95% intervals.

    Columns: wave_id, wave_value, wave_label, group, group_value, group_label, item (the technology code),
    item_label, group_n, n, one count per answer code, share_<code>, share_using_or_planning,
    ci_using_low/high, ci_using_or_planning_low/high, suppressed.
    """
    table = answer_table(conn, survey, query, survey.technology_codes, ADOPTION_ANSWERS, k, disclosure)
    table = add_shares(table, ADOPTION_ANSWERS)
    using_or_planning = table["using"] + table["planning"]
    table["share_using_or_planning"] = using_or_planning / table["n"].where(table["n"] > 0)
    table = add_interval(table, table["using"], "using")
    table = add_interval(table, using_or_planning, "using_or_planning")
    return blank_suppressed(table, _numbers(table))


def challenges(conn: Connection, survey: Survey, query: Query, k: int,
               disclosure: Disclosure | None = None) -> pd.DataFrame:
    """The pandemic challenges: counts and shares per importance level, and the share rating them 4 or 5."""
    codes = [str(option.key) for option in survey.challenge_scale]
    table = answer_table(conn, survey, query, survey.challenge_codes, codes, k, disclosure)
    table = add_shares(table, codes)
    important = table[[code for code in IMPORTANT if code in codes]].sum(axis=1)
    table["share_important"] = important / table["n"].where(table["n"] > 0)
    table = add_interval(table, important, "important")
    return blank_suppressed(table, _numbers(table))


def _numbers(table: pd.DataFrame) -> list[str]:
    keys = {"wave_id", "group", "item", "suppressed", "group_value", "group_label", "item_label", "wave_value",
            "wave_label"}
    return [column for column in table.columns if column not in keys]


def api_rows(table: pd.DataFrame, by: str | None, digits: int = 4) -> list[dict[str, object]]:
    """`adoption` rows in the JSON API's shape: counts, shares and interval null where a row is withheld."""
    # Column by column into plain lists: DataFrame.to_dict would cost more than the whole query.
    names = ["item", "group_value", "suppressed", "n", *ADOPTION_ANSWERS, "share_using", "share_planning",
             "ci_using_low", "ci_using_high"]
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
        out["ci_using"] = None if withheld else [round(float(columns["ci_using_low"][i]), digits),
                                                 round(float(columns["ci_using_high"][i]), digits)]
        out["suppressed"] = withheld
        rows.append(out)
    return rows


def response_rates(conn: Connection, survey: Survey, k: int, visible_clusters: Iterable[int] | None = None,
                   disclosure: Disclosure | None = None) -> tuple[pd.DataFrame, dict[str, object]]:
    """Responses and response rate per cluster, and for all clusters together, in the survey's wave.

    Invited: organisations with an invitation to the wave that are members of the cluster now. Responses: as
    counted at submission (an organisation's clusters are kept as they were when it answered). Responses
    and rate are withheld exactly where the cluster breakdown of adoption is withheld.
    """
    disclosure = disclosure or disclosure_for(conn, (survey.wave_id,), k)
    groups = disclosure.breakdown((), "cluster")
    responses = {int(row.group): (int(row.n), bool(row.withheld)) for row in groups.itertuples()}
    invited, invited_total = invitations_per_cluster(conn, survey.wave_id)
    visible = None if visible_clusters is None else set(visible_clusters)
    rows = []
    for option in survey.options.get("cluster", ()):
        cluster_id = int(option.key)
        if visible is not None and cluster_id not in visible:
            continue
        n, withheld = responses.get(cluster_id, (0, True))
        if not n and not invited.get(cluster_id):
            continue
        rows.append({"group": cluster_id, "group_value": option.value, "group_label": option.label,
                     "invited": invited.get(cluster_id, 0), "responses": n, "suppressed": withheld or n < k})
    table = pd.DataFrame(rows, columns=["group", "group_value", "group_label", "invited", "responses", "suppressed"])
    table["rate"] = table["responses"] / table["invited"].where(table["invited"] > 0)
    table = blank_suppressed(table, ["responses", "rate"])
    total_n = int(disclosure.sizes((), None)["n"].sum())
    total_withheld = disclosure.cell_withheld(())[survey.wave_id]
    total = {
        "invited": invited_total,
        "responses": None if total_withheld else total_n,
        "rate": None if total_withheld or not invited_total else total_n / invited_total,
        "suppressed": total_withheld,
    }
    return table, total
