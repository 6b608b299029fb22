"""Reading counts: SQLAlchemy Core `select` with bound parameters and GROUP BY, never responses into Python.

Answers are counted per group in the `tally` table, kept current inside each submission's transaction
(survey/operations/tallies.py). A query is answered from the smallest grain that holds every dimension it filters or
groups on; dimensions of the grain that the query does not mention are summed over, which is exact because
outside the cluster dimension every response has exactly one value per dimension.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC
from functools import lru_cache

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Select, bindparam, case, func, select

from reports.context import Option, Survey
from reports.dimensions import DIMENSION_COLUMNS, PROFILE_DIMENSIONS, Filters
from reports.protection import RULE_VERSION, Atom, Items, Protection, decode, protect_rounds
from survey.models import Cluster, Invitation, QuestionnaireVersion, Response, Wave, membership, response_cluster
from survey.models.protections import WaveProtection
from survey.models.tallies import ALL, ALL_CLUSTERS, GRAINS, RESPONSES_ITEM, Tally, grain_name
from survey.models.waves import WaveState
from survey.questionnaire import Questionnaire, country_choices, parse

TALLY = Tally.__table__
PROTECTION = WaveProtection.__table__


def grain_for(dimensions: Iterable[str]) -> str:
    """The name of the smallest grain that holds every one of `dimensions`."""
    wanted = set(dimensions)
    fitting = [dims for dims in GRAINS if wanted <= set(dims)]
    if not fitting:
        raise ValueError(f"no tally grain holds {sorted(wanted)}")
    return grain_name(min(fitting, key=len))


def count_answers(
    conn: Connection,
    wave_ids: Sequence[int],
    items: Sequence[str],
    codes: Sequence[str] = (),
    filters: Filters = (),
    by: str | None = None,
) -> pd.DataFrame:
    """Answers per wave, group of `by` (a dimension, or None for no breakdown) and item.

    Returns columns wave_id, group (the tally key: a cluster id or a code; None without a breakdown), item,
    `total` (every answer to the item) and one count column per answer code in `codes`. The database adds the
    answers up into columns itself, so a chart's worth of counts is one row per group and item. Groups whose
    count fell to zero (answers changed after submission) are left out.
    """
    by_dimension = by if by in DIMENSION_COLUMNS else None
    stmt = _count_statement(tuple(codes), tuple(dimension for dimension, _ in filters), by_dimension)
    parameters = {
        "wave_ids": list(wave_ids),
        "items": list(items),
        **{f"filter_{index}": key for index, (_, key) in enumerate(filters)},
    }
    rows = conn.execute(stmt, parameters).all()
    names = ["wave_id", *(["group"] if by_dimension else []), "item", "total", *codes]
    # Column by column, each count column made int64 as it is built: handing pandas the Row objects costs ten
    # times as much, and converting column by column afterwards cost more than the query.
    values = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    columns = dict(zip(names, values, strict=True))
    frame = pd.DataFrame(
        {
            "wave_id": np.array(columns["wave_id"], dtype=np.int64),
            "group": list(columns["group"]) if by_dimension else [None] * len(rows),
            "item": pd.array(columns["item"], dtype="str"),
            **{name: np.array(columns[name], dtype=np.int64) for name in ("total", *codes)},
        }
    )
    if not rows:  # the dtype a breakdown's keys have when there are rows
        frame["group"] = frame["group"].astype(object)
    return frame


@lru_cache(maxsize=256)
def _count_statement(codes: tuple[str, ...], filtered: tuple[str, ...], by: str | None) -> Select:
    """`count_answers`' statement for these answer codes, filtered dimensions and breakdown, with the waves,
    items and filter values as parameters. Kept, because building it (a CASE per code) and SQLAlchemy's
    cache key for it cost ten times as much as running it on a small tally (a statement keeps its cache key)."""
    dimensions = [*filtered, *([by] if by else [])]
    group_columns = [TALLY.c.wave_id, *([TALLY.c[DIMENSION_COLUMNS[by]]] if by else []), TALLY.c.item]
    total = func.sum(TALLY.c.n)
    per_code = [func.sum(case((TALLY.c.answer == code, TALLY.c.n), else_=0)) for code in codes]
    return (
        select(*group_columns, total, *per_code)
        .where(
            TALLY.c.wave_id.in_(bindparam("wave_ids", expanding=True)),
            TALLY.c.grain == grain_for(dimensions),
            TALLY.c.item.in_(bindparam("items", expanding=True)),
            *(
                TALLY.c[DIMENSION_COLUMNS[dimension]] == bindparam(f"filter_{index}")
                for index, dimension in enumerate(filtered)
            ),
        )
        .group_by(*group_columns)
        .having(total > 0)
    )


def group_sizes(
    conn: Connection, wave_ids: Sequence[int], filters: Filters = (), by: str | None = None
) -> pd.DataFrame:
    """Responses per wave and group (columns wave_id, group, n); groups without responses are left out."""
    counts = count_answers(conn, wave_ids, [RESPONSES_ITEM], (), filters, by)
    return counts[["wave_id", "group", "total"]].rename(columns={"total": "n"}).reset_index(drop=True)


def report_items(questionnaire: Questionnaire) -> Items:
    """The items reports publish answer counts of, with their codes: the technologies and the challenges."""
    return Items(
        tuple(
            (item.code, tuple(choice.code for choice in item.choices))
            for item in (*questionnaire.technologies, *questionnaire.challenges)
        )
    )


def read_atoms(conn: Connection, wave_id: int, items: Items) -> list[list[Atom]]:
    """The wave's responses as atoms (`reports.protection`): grouped by clusters (as counted at submission) and
    profile, with their answer counts; one list per round (`Response.reopening`: 0 unless the wave was reopened).
    Reads every response of the wave once."""
    clusters: dict[int, list[int]] = {}
    for response_id, cluster_id in conn.execute(
        select(response_cluster.c.response_id, response_cluster.c.cluster_id)
        .join(Response, Response.id == response_cluster.c.response_id)
        .where(Response.wave_id == wave_id)
    ):
        clusters.setdefault(response_id, []).append(cluster_id)
    profile_columns = [getattr(Response, d.column) for d in PROFILE_DIMENSIONS]
    grouped: dict[tuple[int, frozenset[int], tuple[str, ...]], list] = {}
    rows = conn.execute(
        select(Response.id, Response.reopening, Response.answers, *profile_columns)
        .where(Response.wave_id == wave_id)
        .execution_options(yield_per=20_000)
    )
    width = items.width
    for response_id, reopening, answers, *profile in rows:
        key = (int(reopening), frozenset(clusters.get(response_id, ())), tuple(str(value) for value in profile))
        entry = grouped.setdefault(key, [0, [0] * width])
        entry[0] += 1
        vector = items.vector(answers)
        counts = entry[1]
        for index, value in enumerate(vector):
            if value:
                counts[index] += 1
    rounds: list[list[Atom]] = [[] for _ in range(1 + max((key[0] for key in grouped), default=0))]
    for (reopening, c, p), (n, counts) in grouped.items():
        rounds[reopening].append(Atom(clusters=c, profile=p, n=n, answers=tuple(counts)))
    return rounds


#: Protections of closed waves, whose responses no longer change: (database, wave, fingerprint) -> protection.
_CLOSED: dict[tuple[str, int, str], Protection] = {}


def protection_fingerprint(conn: Connection, wave_id: int, k: int) -> str | None:
    """What a closed wave's protection is made from: when it closed, its number of responses, k and the rule's
    version (`survey.models.protections`). None for a wave that is not closed, whose responses still change."""
    wave = conn.execute(select(Wave.state, Wave.closed_at).where(Wave.id == wave_id)).one()
    if wave.state != WaveState.CLOSED or wave.closed_at is None:
        return None
    n = conn.execute(
        select(func.coalesce(func.sum(TALLY.c.n), 0)).where(
            TALLY.c.wave_id == wave_id,
            TALLY.c.grain == grain_name(()),
            TALLY.c.item == RESPONSES_ITEM,
            TALLY.c.cluster_id == ALL_CLUSTERS,
            TALLY.c.size_class == ALL,
        )
    ).scalar_one()
    closed_at = wave.closed_at if wave.closed_at.tzinfo else wave.closed_at.replace(tzinfo=UTC)  # SQLite: naive
    return f"{closed_at.astimezone(UTC).isoformat()}|{int(n)}|{k}|{RULE_VERSION}"


def make_protection(conn: Connection, wave_id: int, k: int) -> Protection:
    """The wave's protected partition (`reports.protection.protect`), made from its responses (one read of them)."""
    document = conn.execute(
        select(QuestionnaireVersion.document)
        .join(Wave, Wave.questionnaire_id == QuestionnaireVersion.id)
        .where(Wave.id == wave_id)
    ).scalar_one()
    items = report_items(parse(document))
    return protect_rounds(read_atoms(conn, wave_id, items), items, k)


def wave_protection(conn: Connection, wave_id: int, k: int) -> Protection:
    """The wave's protected partition: for a closed wave, the one stored when it closed
    (`survey.operations.protections`), kept for the process; made from the responses if none fits (a wave closed
    before partitions were stored; each process then makes its own). Only closed waves' results are published
    (`Wave.results_published`): an open wave's is made afresh, for tests and benchmarks that read one."""
    fingerprint = protection_fingerprint(conn, wave_id, k)
    if fingerprint is None:
        return make_protection(conn, wave_id, k)
    key = (str(conn.engine.url), wave_id, fingerprint)
    if key not in _CLOSED:
        stored = conn.execute(
            select(PROTECTION.c.data).where(PROTECTION.c.wave_id == wave_id, PROTECTION.c.fingerprint == fingerprint)
        ).scalar_one_or_none()
        if len(_CLOSED) > 64:
            _CLOSED.pop(next(iter(_CLOSED)))
        _CLOSED[key] = decode(stored) if stored is not None else make_protection(conn, wave_id, k)
    return _CLOSED[key]


def invitations_per_cluster(conn: Connection, wave_id: int) -> tuple[dict[int, int], int]:
    """Organisations invited to the wave, per cluster they are a member of now, and in all."""
    per_cluster = (
        select(membership.c.cluster_id, func.count())
        .join_from(Invitation, membership, membership.c.organisation_id == Invitation.organisation_id)
        .where(Invitation.wave_id == wave_id)
        .group_by(membership.c.cluster_id)
    )
    total = select(func.count()).select_from(Invitation).where(Invitation.wave_id == wave_id)
    counts = {int(cluster_id): int(n) for cluster_id, n in conn.execute(per_cluster).all()}
    return counts, int(conn.execute(total).scalar_one())


@lru_cache(maxsize=16)
def _countries(locale: str) -> tuple[Option, ...]:
    # Country names come from CLDR and never change while the process runs.
    return tuple(Option(value=code, key=code, label=name) for code, name in country_choices(locale))


def load_survey(
    conn: Connection,
    slug: str,
    translate: Callable[[str], str] = str,
    locale: str = "en",
    published_only: bool = False,
) -> Survey | None:
    """The wave with this slug, its questionnaire's report items and each dimension's values; None if unknown or
    not visible to readers (a draft), whose waves to compare with are likewise never drafts. With
    `published_only` (every reader but admins: `Wave.results_published`), only closed waves count, as the wave
    and as the waves to compare with.

    `translate` turns a label from the questionnaire into the reader's language (gettext in the web app).
    """
    shown = Wave.results_published if published_only else Wave.visible_to_readers
    if not slug or len(slug) > 64 or "\x00" in slug:  # no such slug can exist; PostgreSQL refuses NUL
        return None
    wave = conn.execute(
        select(Wave.id, Wave.slug, Wave.title, QuestionnaireVersion.document)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Wave.questionnaire_id)
        .where(Wave.slug == slug, shown)
    ).one_or_none()
    if wave is None:
        return None
    questionnaire = parse(wave.document)

    def options(choices) -> tuple[Option, ...]:
        return tuple(Option(value=c.code, key=c.code, label=translate(c.label)) for c in choices)

    profile = {item.code: item for item in questionnaire.section("profile").items}
    waves = conn.execute(
        select(Wave.id, Wave.slug, Wave.title).where(shown).order_by(Wave.opens_on.asc().nulls_last(), Wave.id)
    ).all()
    clusters = conn.execute(select(Cluster.id, Cluster.slug, Cluster.name).order_by(Cluster.name, Cluster.id)).all()
    return Survey(
        wave_id=wave.id,
        slug=wave.slug,
        title=wave.title,
        technologies=options(questionnaire.technologies),
        adoption_scale=options(questionnaire.adoption_scale),
        challenges=options(questionnaire.challenges),
        challenge_scale=options(questionnaire.challenges[0].choices if questionnaire.challenges else ()),
        options={
            "cluster": tuple(Option(value=c.slug, key=c.id, label=c.name) for c in clusters),
            **{
                d.name: _countries(locale) if d.name == "country" else options(profile[d.profile_item].choices)
                for d in PROFILE_DIMENSIONS
                if d.profile_item is not None
            },
            "wave": tuple(Option(value=w.slug, key=w.id, label=w.title) for w in waves),
        },
    )
