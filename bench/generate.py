"""Bulk-load realistic survey data for benchmarks: two waves answered by a panel of organisations in 40
clusters, with invitations, memberships, responses and the tallies the app would have kept for them, a
million responses in a few minutes.

The N responses are split over the waves: ceil(N/2) organisations answer the open wave (`WAVE_SLUG`, the one
the benchmarks read and submit to) and the first N//2 of them also answered the earlier, closed wave
(`EARLIER_WAVE_SLUG`), with the same profile and clusters and somewhat lower adoption, so that the report's
"change between waves" chart has a change to show. With `waves=1` all N answer the open wave alone.

Going through the ORM and `survey.operations.tallies.apply_counts` one response at a time would take hours, so the
answers are drawn with numpy (the same distributions as `survey.cli.demo`), the tallies are counted with
`np.bincount` over integer-coded groups, and rows go in with COPY (PostgreSQL) or executemany (SQLite).
tests/test_reports_bench.py checks on a small N that the tallies equal what `survey.operations.tallies.response_counts`
gives for the stored responses, in both waves.

    python -m bench.generate --database-url sqlite:////tmp/bench.sqlite3 --responses 10000
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, create_engine, insert, text

from reports.dimensions import PROFILE_DIMENSIONS
from survey.cli import demo
from survey.extensions import db
from survey.models import Cluster, QuestionnaireVersion, Wave
from survey.models.tallies import ALL, ALL_CLUSTERS, GRAINS, RESPONSES_ITEM, grain_name
from survey.operations.tallies import KEY_COLUMNS
from survey.questionnaire import EU, PROFILE_SECTION, Questionnaire, default_document, parse

#: Countries of the EU, where clusters and most of their members are.
COUNTRIES = sorted(EU)
CHUNK = 50_000


@dataclass(frozen=True)
class BenchWave:
    """A wave the generator makes. Ids are fixed, so the open wave has the same id with one wave or two."""

    id: int
    slug: str
    opens_on: date
    #: Added to every technology's logit, as `survey.cli.demo` does for its earlier wave: adoption grows over time.
    shift: float
    #: When a closed wave closed; None for the open one, which accepts answers for a year from the load.
    closed_at: datetime | None = None

    def opened_at(self, now: datetime) -> datetime:
        """When it opened (and its invitations were made): the load opens the open wave."""
        return now if self.closed_at is None else datetime.combine(self.opens_on, datetime.min.time())

    def submitted_at(self, now: datetime) -> datetime:
        """When its responses came in: by the time a closed wave closed; just now in the open one."""
        return self.closed_at or now

    def row(self, now: datetime) -> dict[str, object]:
        """Its row in the wave table, as of `now`."""
        if self.closed_at is None:
            state, closes_on = "open", now.date() + timedelta(days=365)
        else:
            state, closes_on = "closed", self.closed_at.date()
        return {
            "id": self.id,
            "slug": self.slug,
            "title": f"Benchmark wave {self.opens_on.year}",
            "questionnaire_id": 1,
            "state": state,
            "opens_on": self.opens_on,
            "closes_on": closes_on,
            "opened_at": self.opened_at(now),
            "closed_at": self.closed_at,
        }


EARLIER_WAVE = BenchWave(1, "bench-2021", date(2021, 3, 1), shift=-0.5, closed_at=datetime(2021, 6, 30, 18))
OPEN_WAVE = BenchWave(2, "bench-2023", date(2023, 3, 1), shift=0.0)
#: Oldest first; `synthesise(waves=1)` keeps the last.
WAVES = (EARLIER_WAVE, OPEN_WAVE)
#: The wave the benchmarks measure, export and submit to.
WAVE_SLUG, WAVE_ID = OPEN_WAVE.slug, OPEN_WAVE.id
EARLIER_WAVE_SLUG = EARLIER_WAVE.slug


@dataclass
class WaveResponses:
    """One wave's responses as integer codes: response r is organisation r's (a wave's respondents are the
    first `n` organisations)."""

    wave: BenchWave
    #: Item code -> answer code index per response (choice items); value_chain_changes as a bit mask.
    answers: dict[str, np.ndarray]
    value_chain: np.ndarray
    employees_now: np.ndarray
    employees_before: np.ndarray

    @property
    def n(self) -> int:
        return len(self.value_chain)


@dataclass
class Synthetic:
    """Organisations, their clusters and profiles, and each wave's responses; each categorical column indexes
    `codes[column]`."""

    codes: dict[str, list[str]]
    #: Cluster i has id i + 1, its ecosystem and country as codes.
    cluster_ecosystem: np.ndarray
    cluster_country: np.ndarray
    #: Per organisation (organisation i has id i + 1): home cluster, second cluster (-1 if none), and the profile.
    home: np.ndarray
    second: np.ndarray
    size: np.ndarray
    org_type: np.ndarray
    country: np.ndarray
    ecosystem: np.ndarray
    #: Oldest wave first.
    waves: list[WaveResponses]

    @property
    def organisations(self) -> int:
        return len(self.home)

    @property
    def responses(self) -> int:
        return sum(wave.n for wave in self.waves)

    @property
    def clusters(self) -> int:
        return len(self.cluster_ecosystem)

    def of_wave(self, wave_id: int) -> WaveResponses:
        return next(responses for responses in self.waves if responses.wave.id == wave_id)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def synthesise(n: int, clusters: int = 40, seed: int = 1, waves: int = 2) -> Synthetic:
    """Draw n responses in `clusters` clusters, with demo.py's differences between technologies, ecosystems
    and sizes; 10% of organisations belong to a second cluster.

    With two waves, ceil(n/2) organisations answer the open wave and the first n//2 of them the earlier one too
    (a panel); with one, n organisations answer the open wave."""
    if waves not in (1, 2):
        raise ValueError(f"waves must be 1 or 2, not {waves}")
    questionnaire = parse(default_document())
    rng = np.random.default_rng(seed)
    profile = {item.code: item for item in questionnaire.section(PROFILE_SECTION).items}
    # Alphabetical codes: integer order is then text order, and rows can be sorted like the tally's key.
    codes = {
        "size": sorted(c.code for c in profile["size_class"].choices),
        "type": sorted(c.code for c in profile["org_type"].choices),
        "ecosystem": sorted(c.code for c in profile["ecosystem"].choices),
        "country": COUNTRIES,
    }
    index = {name: {code: i for i, code in enumerate(values)} for name, values in codes.items()}
    cluster_ecosystem = rng.integers(0, len(codes["ecosystem"]), clusters)
    cluster_country = rng.integers(0, len(COUNTRIES), clusters)

    respondents = [n // 2, n - n // 2] if waves == 2 else [n]
    organisations = respondents[-1]
    home = np.arange(organisations) % clusters
    # Shuffled, so the first n//2 organisations (the earlier wave's) are spread over the clusters too.
    rng.shuffle(home)
    # The second cluster is the home cluster's sister (clusters come in pairs), as in the demo: overlapping
    # clusters are related ones, and an overlap of a few organisations would keep one of the pair withheld.
    sister = home ^ 1
    second = np.where((rng.random(organisations) < 0.1) & (sister < clusters), sister, -1)

    type_names, type_weights = zip(*demo.TYPES, strict=True)
    org_type_name = rng.choice(np.array(type_names), organisations, p=np.array(type_weights) / sum(type_weights))
    size_name = np.empty(organisations, dtype=object)
    for name, sizes in demo.SIZES_BY_TYPE.items():
        mask = org_type_name == name
        labels, weights = zip(*sizes, strict=True)
        size_name[mask] = rng.choice(np.array(labels), mask.sum(), p=np.array(weights) / sum(weights))
    org_type = _codes(org_type_name, index["type"])
    size = _codes(size_name, index["size"])
    ecosystem = np.where(
        rng.random(organisations) < 0.85, cluster_ecosystem[home], rng.choice(cluster_ecosystem, organisations)
    )
    country = np.where(
        rng.random(organisations) < 0.9, cluster_country[home], rng.choice(cluster_country, organisations)
    )
    # Each wave's answers are drawn afresh (the profile stays): only the adoption level ties the waves together.
    responses = [
        _draw_answers(rng, questionnaire, codes, wave, size[:count], ecosystem[:count])
        for wave, count in zip(WAVES[-waves:], respondents, strict=True)
    ]
    return Synthetic(
        codes=codes,
        cluster_ecosystem=cluster_ecosystem,
        cluster_country=cluster_country,
        home=home,
        second=second,
        size=size,
        org_type=org_type,
        country=country,
        ecosystem=ecosystem,
        waves=responses,
    )


def _draw_answers(
    rng: np.random.Generator,
    questionnaire: Questionnaire,
    codes: dict[str, list[str]],
    wave: BenchWave,
    size: np.ndarray,
    ecosystem: np.ndarray,
) -> WaveResponses:
    """One wave's answers of the organisations with these sizes and ecosystems."""
    n = len(size)
    answers: dict[str, np.ndarray] = {}
    size_effect = np.array([demo.SIZE_EFFECT[code] for code in codes["size"]])[size]
    scale = [choice.code for choice in questionnaire.adoption_scale]
    using, planning, not_planned, dont_know = (
        scale.index(code) for code in ("using", "planning", "not_planned", "dont_know")
    )
    for tech in questionnaire.technologies:
        boost = np.array([demo.ECOSYSTEM_BOOST.get(code, {}).get(tech.code, 0.0) for code in codes["ecosystem"]])
        logit = demo.BASE_USING.get(tech.code, -1.5) + boost[ecosystem] + size_effect + wave.shift
        p_using = _sigmoid(logit)
        p_dont_know = 0.04
        p_planning = np.clip(1 - p_using - p_dont_know, 0, None) * _sigmoid(logit + 0.9)
        roll = rng.random(n)
        answers[tech.code] = np.select(
            [roll < p_using, roll < p_using + p_planning, roll < p_using + p_planning + p_dont_know],
            [using, planning, dont_know],
            default=not_planned,
        ).astype(np.int8)
    for challenge in questionnaire.challenges:
        choices = [choice.code for choice in challenge.choices]
        score = np.clip(np.rint(rng.normal(demo.CHALLENGE_BASE.get(challenge.code, 3.0), 1.0, n)), 1, 5).astype(int)
        coded = np.array([choices.index(str(s)) for s in range(1, 6)])[score - 1]
        answers[challenge.code] = np.where(rng.random(n) < 0.06, choices.index("na"), coded).astype(np.int8)
    items = questionnaire.items
    for code, weights in (
        ("skills_share", None),
        ("hard_to_fill", [2, 1, 1]),
        ("exports_eu", None),
        ("exports_non_eu", [1, 1, 1, 1, 0]),
    ):
        count = len(items[code].choices)
        p = None if weights is None else np.array(weights) / sum(weights)
        answers[code] = rng.choice(count, n, p=p).astype(np.int8)
    value_chain = ((rng.random((n, 3)) < 0.3) * np.array([1, 2, 4])).sum(axis=1).astype(np.int8)

    low = np.array([{"micro": 1, "small": 10, "medium": 50, "large": 250}[c] for c in codes["size"]])[size]
    high = np.array([{"micro": 9, "small": 49, "medium": 249, "large": 5000}[c] for c in codes["size"]])[size]
    employees_now = rng.integers(low, high + 1)
    employees_before = np.maximum(0, np.rint(employees_now * rng.uniform(0.85, 1.1, n))).astype(int)
    return WaveResponses(
        wave=wave,
        answers=answers,
        value_chain=value_chain,
        employees_now=employees_now,
        employees_before=employees_before,
    )


def _codes(values: np.ndarray, index: dict[str, int]) -> np.ndarray:
    return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))


# --- Tallies ------------------------------------------------------------------------------------------------

#: The synthetic attribute holding each profile dimension (the one that differs from its column is size).
_ATTRIBUTE = {"size": "size"}
#: (report dimension, synthetic attribute, tally column), in the tally key's order.
DIMENSIONS = tuple((d.name, _ATTRIBUTE.get(d.name, d.column), d.column) for d in PROFILE_DIMENSIONS)


def _tallied_items(responses: WaveResponses) -> list[tuple[str, list[str], np.ndarray | None]]:
    """(item, answer codes, answer index per response) for every tallied item; None for the multi item."""
    questionnaire = parse(default_document())
    items = [(RESPONSES_ITEM, [""], None)]
    for item in questionnaire.items.values():
        if item.tallied:
            items.append((item.code, [c.code for c in item.choices], responses.answers.get(item.code)))
    return sorted(items, key=lambda entry: entry[0])


def _value_chain_choices(responses: WaveResponses, choices: list[str]) -> dict[str, np.ndarray]:
    """Which responses ticked each choice of value_chain_changes ("none" when they ticked nothing else)."""
    ticked = {code: (responses.value_chain & bit) > 0 for code, bit in zip(choices[:3], (1, 2, 4), strict=True)}
    ticked[choices[3]] = responses.value_chain == 0
    return ticked


def tally_frame(s: Synthetic, wave_id: int) -> pd.DataFrame:
    """Every tally row (KEY_COLUMNS and n) the app would hold for this wave's responses, in the table's key order."""
    responses = s.of_wave(wave_id)
    n = responses.n
    # Response r is organisation r's, so organisation arrays indexed by response rows give its profile.
    home, second = s.home[:n], s.second[:n]
    multi_response = np.flatnonzero(second >= 0)
    cluster_rows = np.concatenate([np.arange(n), multi_response])
    cluster_index = np.concatenate([home, second[multi_response]])
    names = {name: np.array([ALL, *s.codes[name]], dtype=object) for name, _, _ in DIMENSIONS}
    items = _tallied_items(responses)
    frames = []
    for dims in sorted(GRAINS, key=grain_name):
        if "cluster" in dims:
            rows, key, space = cluster_rows, cluster_index.astype(np.int64), s.clusters
        else:
            rows, key, space = np.arange(n), np.zeros(n, dtype=np.int64), 1
        radix = []
        for name, attribute, _ in DIMENSIONS:
            if name in dims:
                size = len(s.codes[name])
                key = key * size + getattr(s, attribute)[rows]
                space *= size
                radix.append((name, size))
        blocks = []
        for rank, (item, choices, values) in enumerate(items):
            answer_ranks = np.argsort(np.argsort(choices))  # alphabetical rank of each answer code
            if item == RESPONSES_ITEM:
                per_answer = [(0, np.bincount(key, minlength=space))]
            elif values is None:  # the multi item
                ticked = _value_chain_choices(responses, choices)
                per_answer = [
                    (i, np.bincount(key[ticked[code][rows]], minlength=space)) for i, code in enumerate(choices)
                ]
            else:
                combined = np.bincount(key * len(choices) + values[rows], minlength=space * len(choices))
                per_answer = [(i, combined[i :: len(choices)]) for i in range(len(choices))]
            for answer, counts in per_answer:
                groups = np.flatnonzero(counts)
                blocks.append(
                    (
                        groups,
                        np.full(len(groups), rank),
                        np.full(len(groups), answer_ranks[answer]),
                        np.full(len(groups), answer),
                        counts[groups],
                        item,
                        choices,
                    )
                )
        groups = np.concatenate([b[0] for b in blocks])
        order = np.lexsort((np.concatenate([b[2] for b in blocks]), np.concatenate([b[1] for b in blocks]), groups))
        columns: dict[str, object] = {"wave_id": wave_id, "grain": grain_name(dims)}
        remainder = groups[order]
        decoded = {}
        for name, size in reversed(radix):
            decoded[name] = remainder % size + 1  # 0 stands for ALL in `names`
            remainder = remainder // size
        columns["cluster_id"] = remainder + 1 if "cluster" in dims else np.full(len(order), ALL_CLUSTERS)
        for name, _, column in DIMENSIONS:
            columns[column] = names[name][decoded[name]] if name in decoded else ALL
        item_names = np.concatenate([np.full(len(b[0]), b[5], dtype=object) for b in blocks])
        answer_names = np.concatenate([np.array(b[6], dtype=object)[b[3]] for b in blocks])
        columns["item"] = item_names[order]
        columns["answer"] = answer_names[order]
        columns["n"] = np.concatenate([b[4] for b in blocks])[order]
        frames.append(pd.DataFrame(columns, index=pd.RangeIndex(len(order)))[[*KEY_COLUMNS, "n"]])
    return pd.concat(frames, ignore_index=True)


# --- Rows of the other tables -------------------------------------------------------------------------------


def _answers_json(responses: WaveResponses, start: int, stop: int) -> np.ndarray:
    """The answers documents of the wave's responses start..stop-1, as JSON text, built column by column."""
    questionnaire = parse(default_document())
    parts = []
    for code, values in responses.answers.items():
        choices = np.array([json.dumps(c.code) for c in questionnaire.items[code].choices], dtype=object)
        parts.append(f'"{code}": ' + choices[values[start:stop]])
    chain_codes = [c.code for c in questionnaire.items["value_chain_changes"].choices]
    chains = np.array(
        [
            json.dumps([c for c, bit in zip(chain_codes[:3], (1, 2, 4), strict=True) if mask & bit] or [chain_codes[3]])
            for mask in range(8)
        ],
        dtype=object,
    )
    parts.append('"value_chain_changes": ' + chains[responses.value_chain[start:stop]])
    parts.append('"employees_now": ' + responses.employees_now[start:stop].astype(str).astype(object))
    parts.append('"employees_12m_ago": ' + responses.employees_before[start:stop].astype(str).astype(object))
    document = parts[0]
    for part in parts[1:]:
        document = document + ", " + part
    return "{" + document + ', "comments": null}'


def _profile(s: Synthetic, start: int, stop: int) -> dict[str, np.ndarray]:
    """Organisations start..stop-1's profile columns, as codes."""
    return {
        column: np.array(s.codes[name], dtype=object)[getattr(s, attribute)[start:stop]]
        for name, attribute, column in DIMENSIONS
    }


class BulkWriter:
    """Appends rows to a table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, engine: Engine, fast: bool = True):
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.connection = engine.raw_connection()
        if fast and not self.postgres:
            cursor = self.connection.cursor()
            # A throw-away benchmark database: no journal, no waiting for the disk.
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.close()

    def write(self, table: str, frame: pd.DataFrame) -> None:
        columns = list(frame.columns)
        cursor = self.connection.cursor()
        if self.postgres:
            buffer = io.StringIO()
            # Text format: tab-separated, NULL as \N, so an empty string stays an empty string.
            frame.to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N", quoting=csv.QUOTE_NONE)
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                frame.astype(object).where(frame.notna(), None).to_numpy().tolist(),
            )
        cursor.close()

    def execute(self, sql: str) -> None:
        cursor = self.connection.cursor()
        cursor.execute(sql)
        cursor.close()

    def commit(self) -> None:
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()


def _chunks(n: int, size: int = CHUNK) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(n, start + size)


def _stamp(moment: datetime) -> str:
    # As text in SQLAlchemy's SQLite storage format, which PostgreSQL reads too (pandas would make Timestamps).
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _token_hashes(count: int) -> list[str]:
    hashes = os.urandom(32 * count).hex()
    return [hashes[i * 64 : (i + 1) * 64] for i in range(count)]


def _write_organisations(writer: BulkWriter, s: Synthetic, created_at: datetime) -> None:
    for start, stop in _chunks(s.organisations):
        ids = np.arange(start, stop) + 1
        writer.write(
            "organisation",
            pd.DataFrame(
                {
                    "id": ids,
                    "name": [f"Bench organisation {i}" for i in ids],
                    **_profile(s, start, stop),
                    "created_at": _stamp(created_at),
                }
            ),
        )


def _write_invitations(writer: BulkWriter, s: Synthetic, wave: BenchWave, first_id: int, now: datetime) -> None:
    """Every organisation is invited to every wave: with an odd N, the last one did not answer the earlier one."""
    for start, stop in _chunks(s.organisations):
        writer.write(
            "invitation",
            pd.DataFrame(
                {
                    "id": np.arange(start, stop) + first_id,
                    "wave_id": wave.id,
                    "organisation_id": np.arange(start, stop) + 1,
                    "token_hash": _token_hashes(stop - start),
                    "created_at": _stamp(wave.opened_at(now)),
                }
            ),
        )


def _write_responses(
    writer: BulkWriter, s: Synthetic, responses: WaveResponses, first_id: int, members: pd.DataFrame, now: datetime, log
) -> None:
    """The wave's responses with ids from `first_id` on, and their clusters: the organisation's memberships."""
    started = time.perf_counter()
    wave = responses.wave
    stamp = _stamp(wave.submitted_at(now))
    for start, stop in _chunks(responses.n):
        writer.write(
            "response",
            pd.DataFrame(
                {
                    "id": np.arange(start, stop) + first_id,
                    "wave_id": wave.id,
                    "organisation_id": np.arange(start, stop) + 1,
                    **_profile(s, start, stop),
                    "region": None,
                    "answers": _answers_json(responses, start, stop),
                    "submitted_at": stamp,
                    "updated_at": stamp,
                }
            ),
        )
        log(f"  {wave.slug}: responses {stop:>9,} of {responses.n:,}  ({time.perf_counter() - started:.0f} s)")
    respondents = members[members["organisation_id"] <= responses.n]
    writer.write(
        "response_cluster",
        pd.DataFrame(
            {"response_id": respondents["organisation_id"] - 1 + first_id, "cluster_id": respondents["cluster_id"]}
        ),
    )


def _write_tallies(writer: BulkWriter, s: Synthetic) -> int:
    """Every wave's tally rows; returns how many. Waves go in id order, which keeps the rows in key order."""
    rows = 0
    if writer.postgres:
        # Building the primary key once after the load is much faster than keeping it up to date row by row.
        writer.execute("ALTER TABLE tally DROP CONSTRAINT pk_tally")
    for responses in s.waves:
        tallies = tally_frame(s, responses.wave.id)
        for start, stop in _chunks(len(tallies), 1_000_000):
            writer.write("tally", tallies.iloc[start:stop])
        rows += len(tallies)
    if writer.postgres:
        writer.execute(f"ALTER TABLE tally ADD CONSTRAINT pk_tally PRIMARY KEY ({', '.join(KEY_COLUMNS)})")
    return rows


def load(engine: Engine, s: Synthetic, now: datetime | None = None, log=print, fast: bool = True) -> dict[str, int]:
    """Create the schema in an empty database and bulk-load the synthetic waves into it. Returns row counts.

    `fast` turns SQLite's journal off while loading: for throw-away benchmark databases only."""
    now = now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    db.metadata.create_all(engine)
    document = default_document()
    questionnaire = parse(document)
    with engine.begin() as conn:
        conn.execute(
            insert(QuestionnaireVersion.__table__).values(
                id=1, code=questionnaire.code, version=questionnaire.version, document=document
            )
        )
        conn.execute(insert(Wave.__table__), [responses.wave.row(now) for responses in s.waves])
        conn.execute(
            insert(Cluster.__table__),
            [
                {
                    "id": i + 1,
                    "slug": f"cluster-{i + 1:03d}",
                    "name": f"Cluster {i + 1:03d}",
                    "country": COUNTRIES[s.cluster_country[i]],
                    "nuts2": None,
                    "ecosystem": s.codes["ecosystem"][s.cluster_ecosystem[i]],
                }
                for i in range(s.clusters)
            ],
        )
    writer = BulkWriter(engine, fast)
    started = time.perf_counter()
    two = np.flatnonzero(s.second >= 0)
    members = pd.DataFrame(
        {
            "cluster_id": np.concatenate([s.home, s.second[two]]) + 1,
            "organisation_id": np.concatenate([np.arange(s.organisations), two]) + 1,
        }
    )
    # Organisations exist from the first wave on, with the same profile and clusters in every wave.
    _write_organisations(writer, s, s.waves[0].wave.opened_at(now))
    writer.write("membership", members)
    # Ids run on from one wave to the next, so that they are unique in each table.
    first_response = 1
    for index, responses in enumerate(s.waves):
        _write_invitations(writer, s, responses.wave, index * s.organisations + 1, now)
        _write_responses(writer, s, responses, first_response, members, now, log)
        first_response += responses.n
    writer.commit()
    tally_rows = _write_tallies(writer, s)
    log(f"  {tally_rows:,} tally rows ({time.perf_counter() - started:.0f} s)")
    if writer.postgres:
        for table in ("questionnaire", "wave", "cluster", "organisation", "invitation", "response"):
            writer.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        writer.commit()
        writer.connection.autocommit = True
        writer.execute("ANALYZE")  # what autovacuum would soon do on a live database
    writer.commit()
    writer.close()
    log(f"  loaded in {time.perf_counter() - started:.0f} s")
    return {
        "responses": s.responses,
        "organisations": s.organisations,
        "invitations": s.organisations * len(s.waves),
        "waves": len(s.waves),
        "clusters": s.clusters,
        "tally": tally_rows,
        "memberships": len(members),
    }


def vacuum(url: str) -> None:
    """VACUUM ANALYZE a freshly loaded PostgreSQL database, as autovacuum would have done on a live one: otherwise
    the first reads of the new rows pay for setting their hint bits, and autovacuum starts on the new tables
    while the benchmark measures (seen: a report page 20 ms slower at 1M)."""
    started = time.perf_counter()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(f"VACUUM ANALYZE in {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty database (SQLite file or PostgreSQL)")
    parser.add_argument("--responses", type=int, default=10_000, help="in all waves together")
    parser.add_argument("--clusters", type=int, default=40)
    parser.add_argument(
        "--waves",
        type=int,
        choices=[1, 2],
        default=2,
        help=f"2: a panel answers {EARLIER_WAVE_SLUG} and {WAVE_SLUG} (half the responses each); "
        f"1: all responses in {WAVE_SLUG}",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    engine = create_engine(args.database_url)
    started = time.perf_counter()
    synthetic = synthesise(args.responses, args.clusters, args.seed, args.waves)
    print(f"drew {args.responses:,} responses in {time.perf_counter() - started:.1f} s")
    print(load(engine, synthetic))
    engine.dispose()


if __name__ == "__main__":
    main()
