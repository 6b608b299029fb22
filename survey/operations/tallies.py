"""The write side of the tallies: turning one response into tally increments, applying increments in the current
transaction, and counting a wave's tallies again from its responses."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy import delete, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from reports.dimensions import PROFILE_DIMENSIONS
from survey.models import Response, Wave, response_cluster
from survey.models.tallies import ALL, ALL_CLUSTERS, GRAINS, RESPONSES_ITEM, Tally, grain_name
from survey.questionnaire import Questionnaire

#: (wave_id, grain, cluster_id, size_class, org_type, country, ecosystem, item, answer)
TallyKey = tuple[int, str, int, str, str, str, str, str, str]
KEY_COLUMNS = ("wave_id", "grain", "cluster_id", "size_class", "org_type", "country", "ecosystem", "item", "answer")

#: The profile columns of a response that its tallies are counted under.
PROFILE = tuple(d.column for d in PROFILE_DIMENSIONS)


def answer_pairs(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (item, answer) pairs a response is counted under, including its count as a response."""
    pairs = [(RESPONSES_ITEM, "")]
    for item in questionnaire.items.values():
        if not item.tallied:
            continue
        value = answers.get(item.code)
        if value in (None, "", []):
            continue
        if item.type == "multi":
            pairs.extend((item.code, str(choice)) for choice in value)
        else:
            pairs.append((item.code, str(value)))
    return pairs


def response_counts(
    questionnaire: Questionnaire,
    wave_id: int,
    profile: Mapping[str, Any],
    cluster_ids: Iterable[int],
    answers: Mapping[str, Any],
) -> Counter[TallyKey]:
    """Every tally row one response adds 1 to: per grain, once per cluster in cluster grains, once elsewhere."""
    pairs = answer_pairs(questionnaire, answers)
    clusters = sorted(set(cluster_ids))
    counts: Counter[TallyKey] = Counter()
    for dims in GRAINS:
        name = grain_name(dims)
        rest = tuple(str(profile[d.column]) if d.name in dims else ALL for d in PROFILE_DIMENSIONS)
        for cluster_id in clusters if "cluster" in dims else [ALL_CLUSTERS]:
            for item, answer in pairs:
                counts[(wave_id, name, cluster_id, *rest, item, answer)] += 1  # type: ignore[misc]
    return counts


def apply_counts(session: Session, delta: Counter[TallyKey]) -> None:
    """Add `delta` to the tally table with one upsert statement.

    Rows go in sorted key order so that concurrent submissions lock shared rows in the same order and
    cannot deadlock on PostgreSQL.
    """
    keys = [key for key in sorted(delta) if delta[key]]
    if not keys:
        return
    if session.get_bind(mapper=Tally).dialect.name == "postgresql":
        # One statement for a submission's ~220 rows, which arrive as one JSON text: an upsert per row
        # (executemany) took 40% of a submission's time, and psycopg's quoting of ten text arrays half that again.
        rows = orjson.dumps([[*key, delta[key]] for key in keys]).decode()
        session.execute(_PG_UPSERT, {"rows": rows})
        return
    stmt = sqlite.insert(Tally)
    stmt = stmt.on_conflict_do_update(index_elements=list(KEY_COLUMNS), set_={"n": Tally.n + stmt.excluded.n})
    session.execute(stmt, [dict(zip(KEY_COLUMNS, key, strict=True), n=delta[key]) for key in keys])


_INTEGERS = {"wave_id", "cluster_id", "n"}
_FIELDS = ", ".join(
    f"CAST(r->>{index} AS {'int' if name in _INTEGERS else 'text'})" for index, name in enumerate((*KEY_COLUMNS, "n"))
)
#: json_array_elements keeps the array's order, so rows are locked in the sorted order given.
_PG_UPSERT = text(
    f"INSERT INTO tally ({', '.join(KEY_COLUMNS)}, n) SELECT {_FIELDS} FROM json_array_elements(CAST(:rows AS json)) r "
    f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET n = tally.n + excluded.n"
)


def rebuild_tallies(session: Session, wave: Wave) -> int:
    """Count the wave's tallies again from its stored responses, replacing the rows it has; returns the number
    of responses counted.

    For repair and after a change in what is tallied: each response is counted under its profile and clusters
    as at its submission (`response_cluster`), exactly as `submit_response` counted it. One transaction: readers
    see the old counts until the commit, then the new ones."""
    questionnaire = wave.questionnaire.parsed
    session.execute(delete(Tally).where(Tally.wave_id == wave.id))
    clusters: dict[int, list[int]] = {}
    for response_id, cluster_id in session.execute(
        select(response_cluster.c.response_id, response_cluster.c.cluster_id)
        .join(Response, Response.id == response_cluster.c.response_id)
        .where(Response.wave_id == wave.id)
    ):
        clusters.setdefault(response_id, []).append(cluster_id)
    counts: Counter[TallyKey] = Counter()
    responses = 0
    rows = session.execute(
        select(Response.id, Response.answers, *(getattr(Response, column) for column in PROFILE))
        .where(Response.wave_id == wave.id)
        .execution_options(yield_per=10_000)
    )
    for response_id, answers, *profile in rows:
        counts.update(
            response_counts(
                questionnaire, wave.id, dict(zip(PROFILE, profile, strict=True)), clusters.get(response_id, ()), answers
            )
        )
        responses += 1
    apply_counts(session, counts)
    return responses
