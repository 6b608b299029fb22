"""Report dimensions and the query parameters that choose them: the allow-list, and parsing against it.

Only names listed here ever reach SQL as column names, and every value is checked against the survey's own
list of values before it becomes a bound parameter, so a malformed request is refused with a clear message
(`InvalidQuery`, a 400 in the web layer) instead of reaching the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reports.context import Key, Option, Survey


@dataclass(frozen=True)
class Dimension:
    """One way a report can be broken down or filtered."""

    #: The report's name for it: the query parameter, the `by` value and the key of `Survey.options`.
    name: str
    #: The tally column (and the response column) holding it.
    column: str
    #: The questionnaire's profile item answering it; None for cluster, which comes from membership.
    profile_item: str | None


#: The one table of report dimensions, in the order the page and the API list them.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("cluster", "cluster_id", None),
    Dimension("size", "size_class", "size_class"),
    Dimension("type", "org_type", "org_type"),
    Dimension("country", "country", "country"),
    Dimension("ecosystem", "ecosystem", "ecosystem"),
)
#: The dimensions a response's profile answers (every one but cluster), in tally column order.
PROFILE_DIMENSIONS: tuple[Dimension, ...] = tuple(d for d in DIMENSIONS if d.profile_item is not None)
#: Report dimension -> the tally column holding it.
DIMENSION_COLUMNS: dict[str, str] = {d.name: d.column for d in DIMENSIONS}
#: What `by` accepts: the dimensions, and waves (several waves of one survey side by side).
GROUPS: tuple[str, ...] = (*DIMENSION_COLUMNS, "wave")
#: Query parameters of the JSON API.
#: The reader's language (survey/languages.py): every page, download and API call takes it.
LANGUAGE_PARAMETER = "lang"
API_PARAMETERS: tuple[str, ...] = ("by", *GROUPS, LANGUAGE_PARAMETER)
#: Measures the heat map can show.
MEASURES: tuple[str, ...] = ("using", "using_or_planning")
#: Query parameters of the report page.
PAGE_PARAMETERS: tuple[str, ...] = (*GROUPS, "measure", LANGUAGE_PARAMETER)

#: Query parameter -> dimension name (the page and the API use the dimension names themselves).
Filters = tuple[tuple[str, Key], ...]


class InvalidQuery(ValueError):
    """A query parameter is unknown or has a value that is not allowed; `allowed` lists what is.

    `kind` says which rule was broken ("parameter": unknown parameter; "value": value not allowed; "single":
    several values where one is allowed), so that the web layer can word it in the reader's language.
    """

    def __init__(self, parameter: str, message: str, allowed: Sequence[str], kind: str = "value"):
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.allowed = list(allowed)
        self.kind = kind


@dataclass(frozen=True)
class Query:
    """What to count: waves, an optional breakdown, and single-valued filters (in tally terms)."""

    wave_ids: tuple[int, ...]
    #: None, or one of GROUPS.
    by: str | None = None
    #: (dimension, key) pairs, sorted, at most one per dimension and never the `by` dimension.
    filters: Filters = ()
    #: Keep only these groups of `by` in the result. Suppression is still decided over every group, so that
    #: asking for fewer groups never reveals more.
    only: tuple[Key, ...] | None = None

    def __post_init__(self) -> None:
        if self.by is not None and self.by not in GROUPS:
            raise ValueError(f"cannot group by {self.by!r}")
        for dimension, _ in self.filters:
            if dimension not in DIMENSION_COLUMNS or dimension == self.by:
                raise ValueError(f"cannot filter on {dimension!r} here")


@dataclass(frozen=True)
class PageQuery:
    """What the report page shows: filters for every chart, clusters to compare, a wave to compare with."""

    #: Filters on size, type, country and ecosystem (never cluster: see `clusters`).
    filters: Filters = ()
    #: Clusters chosen: one narrows every chart to it; one or more are compared with all clusters.
    clusters: tuple[int, ...] = ()
    compare_wave: int | None = None
    measure: str = "using"

    @property
    def cluster_filter(self) -> Filters:
        """The filters of the single-population charts: with the cluster when exactly one is chosen."""
        if len(self.clusters) == 1:
            return tuple(sorted((*self.filters, ("cluster", self.clusters[0]))))
        return self.filters


def vocabulary(survey: Survey, visible_clusters: Iterable[int] | None) -> dict[str, tuple[Option, ...]]:
    """The values each dimension parameter accepts: the survey's, with clusters narrowed to the visible ones."""
    values = dict(survey.options)
    if visible_clusters is not None:
        visible = set(visible_clusters)
        values["cluster"] = tuple(option for option in values.get("cluster", ()) if option.key in visible)
    return values


def requested_values(args: Mapping[str, Sequence[str]], parameter: str) -> list[str]:
    """The parameter's values, from repeated parameters and comma-separated lists; empty ones dropped."""
    values: list[str] = []
    for raw in args.get(parameter, ()):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return list(dict.fromkeys(values))  # repeated values count once


def _keys(args: Mapping[str, Sequence[str]], parameter: str, options: Sequence[Option]) -> list[Key]:
    by_value = {option.value: option.key for option in options}
    keys = []
    for value in requested_values(args, parameter):
        if value not in by_value:
            shown = value if len(value) <= 40 else value[:40] + "…"
            raise InvalidQuery(parameter, f"{parameter}: unknown value {shown!r}", list(by_value))
        keys.append(by_value[value])
    return keys


def _refuse_unknown(args: Mapping[str, Sequence[str]], allowed: Sequence[str]) -> None:
    for parameter in args:
        if parameter not in allowed:
            shown = parameter if len(parameter) <= 40 else parameter[:40] + "…"
            raise InvalidQuery(parameter, f"unknown parameter {shown!r}", allowed, kind="parameter")


def _single(parameter: str, keys: list[Key], hint: str) -> Key | None:
    if len(keys) > 1:
        raise InvalidQuery(parameter, f"{parameter}: give one value; {hint}", [], kind="single")
    return keys[0] if keys else None


def parse_api_query(args: Mapping[str, Sequence[str]], survey: Survey, visible_clusters: Iterable[int] | None) -> Query:
    """The JSON API's `by` and filters, checked against the allow-list and the survey's values.

    A filter takes one value, except on the `by` dimension, where several values choose the groups shown.
    `wave` chooses the waves compared and needs `by=wave`: figures pooled over waves would count an
    organisation once per wave.
    """
    _refuse_unknown(args, API_PARAMETERS)
    by_values = requested_values(args, "by")
    if len(by_values) > 1 or (by_values and by_values[0] not in GROUPS):
        raise InvalidQuery("by", "by: choose one of the allowed groups", GROUPS)
    by = by_values[0] if by_values else None
    values = vocabulary(survey, visible_clusters)

    wave_keys = _keys(args, "wave", values.get("wave", ()))
    if by == "wave":
        chosen = {survey.wave_id, *wave_keys} if wave_keys else None
        order = [option.key for option in values.get("wave", ())]
        wave_ids = tuple(int(key) for key in order if chosen is None or key in chosen)
    elif wave_keys:
        raise InvalidQuery("wave", "wave: chooses the waves to compare and works only with by=wave", ["by=wave"])
    else:
        wave_ids = (survey.wave_id,)

    filters: list[tuple[str, Key]] = []
    only: tuple[Key, ...] | None = None
    for dimension in DIMENSION_COLUMNS:
        keys = _keys(args, dimension, values.get(dimension, ()))
        if dimension == by:
            only = tuple(keys) or None
        else:
            key = _single(dimension, keys, f"or use by={dimension} to see several {dimension} groups")
            if key is not None:
                filters.append((dimension, key))
    if by == "cluster" and visible_clusters is not None and only is None:
        only = tuple(option.key for option in values["cluster"])
    return Query(wave_ids=wave_ids, by=by, filters=tuple(sorted(filters)), only=only)


def parse_page_query(
    args: Mapping[str, Sequence[str]], survey: Survey, visible_clusters: Iterable[int] | None
) -> PageQuery:
    """The report page's filters: one value per profile dimension, any number of clusters, one wave to compare."""
    _refuse_unknown(args, PAGE_PARAMETERS)
    values = vocabulary(survey, visible_clusters)
    filters: list[tuple[str, Key]] = []
    for dimension in (d.name for d in PROFILE_DIMENSIONS):
        key = _single(dimension, _keys(args, dimension, values.get(dimension, ())), "the page shows one at a time")
        if key is not None:
            filters.append((dimension, key))
    clusters = tuple(int(key) for key in _keys(args, "cluster", values.get("cluster", ())))
    compare = _single("wave", _keys(args, "wave", survey.other_waves()), "the page compares two waves")
    measures = requested_values(args, "measure")
    if len(measures) > 1 or (measures and measures[0] not in MEASURES):
        raise InvalidQuery("measure", "measure: choose one of the allowed measures", MEASURES)
    return PageQuery(
        filters=tuple(sorted(filters)),
        clusters=clusters,
        compare_wave=int(compare) if compare is not None else None,
        measure=measures[0] if measures else "using",
    )
