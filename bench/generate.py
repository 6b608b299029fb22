"""Bulk-load a realistic survey wave for benchmarks: organisations, clusters, invitations, responses and the
tallies the app would have kept for them, a million responses in a few minutes.

Going through the ORM and `survey.tallying.apply_counts` one response at a time would take hours, so the
answers are drawn with numpy (the same distributions as `survey.demo`), the tallies are counted with
`np.bincount` over integer-coded groups, and rows go in with COPY (PostgreSQL) or executemany (SQLite).
tests/test_reports_bench.py checks on a small N that the tallies equal what `survey.tallying.response_counts`
gives for the stored responses.

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
from sqlalchemy import Engine, create_engine, insert

from survey import demo
from survey.extensions import db
from survey.models import Cluster, Questionnaire, Wave
from survey.models.tallies import ALL, ALL_CLUSTERS, GRAINS, RESPONSES_ITEM, grain_name
from survey.questionnaire import PROFILE_SECTION, default_document, parse
from survey.tallying import KEY_COLUMNS

#: Countries of the EU, where clusters and most of their members are.
COUNTRIES = sorted(["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
                    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"])
WAVE_SLUG = "bench-2021"
CHUNK = 50_000


@dataclass
class Synthetic:
    """N responses (one per organisation) as integer codes; each categorical column indexes `codes[column]`."""

    codes: dict[str, list[str]]
    #: Cluster i has id i + 1, its ecosystem and country as codes.
    cluster_ecosystem: np.ndarray
    cluster_country: np.ndarray
    #: Per response: home cluster, second cluster (-1 if none), and the profile.
    home: np.ndarray
    second: np.ndarray
    size: np.ndarray
    org_type: np.ndarray
    country: np.ndarray
    ecosystem: np.ndarray
    #: Item code -> answer code index per response (choice items); value_chain_changes as a bit mask.
    answers: dict[str, np.ndarray]
    value_chain: np.ndarray
    employees_now: np.ndarray
    employees_before: np.ndarray

    @property
    def n(self) -> int:
        return len(self.home)

    @property
    def clusters(self) -> int:
        return len(self.cluster_ecosystem)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def synthesise(n: int, clusters: int = 100, seed: int = 1) -> Synthetic:
    """Draw n responses in `clusters` clusters, with demo.py's differences between technologies, ecosystems
    and sizes; 10% of organisations belong to a second cluster."""
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

    home = np.arange(n) % clusters
    rng.shuffle(home)
    other = rng.integers(0, clusters, n)
    second = np.where((rng.random(n) < 0.1) & (other != home), other, -1)

    type_names, type_weights = zip(*demo.TYPES, strict=True)
    org_type_name = rng.choice(np.array(type_names), n, p=np.array(type_weights) / sum(type_weights))
    size_name = np.empty(n, dtype=object)
    for name, sizes in demo.SIZES_BY_TYPE.items():
        mask = org_type_name == name
        labels, weights = zip(*sizes, strict=True)
        size_name[mask] = rng.choice(np.array(labels), mask.sum(), p=np.array(weights) / sum(weights))
    org_type = _codes(org_type_name, index["type"])
    size = _codes(size_name, index["size"])
    ecosystem = np.where(rng.random(n) < 0.85, cluster_ecosystem[home], rng.choice(cluster_ecosystem, n))
    country = np.where(rng.random(n) < 0.9, cluster_country[home], rng.choice(cluster_country, n))

    answers: dict[str, np.ndarray] = {}
    size_effect = np.array([demo.SIZE_EFFECT[code] for code in codes["size"]])[size]
    scale = [choice.code for choice in questionnaire.adoption_scale]
    using, planning, not_planned, dont_know = (scale.index(code) for code in
                                               ("using", "planning", "not_planned", "dont_know"))
    for tech in questionnaire.technologies:
        boost = np.array([demo.ECOSYSTEM_BOOST.get(code, {}).get(tech.code, 0.0) for code in codes["ecosystem"]])
        logit = demo.BASE_USING.get(tech.code, -1.5) + boost[ecosystem] + size_effect
        p_using = _sigmoid(logit)
        p_dont_know = 0.04
        p_planning = np.clip(1 - p_using - p_dont_know, 0, None) * _sigmoid(logit + 0.9)
        roll = rng.random(n)
        answers[tech.code] = np.select(
            [roll < p_using, roll < p_using + p_planning, roll < p_using + p_planning + p_dont_know],
            [using, planning, dont_know], default=not_planned).astype(np.int8)
    for challenge in questionnaire.challenges:
        choices = [choice.code for choice in challenge.choices]
        score = np.clip(np.rint(rng.normal(demo.CHALLENGE_BASE.get(challenge.code, 3.0), 1.0, n)), 1, 5).astype(int)
        coded = np.array([choices.index(str(s)) for s in range(1, 6)])[score - 1]
        answers[challenge.code] = np.where(rng.random(n) < 0.06, choices.index("na"), coded).astype(np.int8)
    items = questionnaire.items
    for code, weights in (("skills_share", None), ("hard_to_fill", [2, 1, 1]), ("exports_eu", None),
                          ("exports_non_eu", [1, 1, 1, 1, 0])):
        count = len(items[code].choices)
        p = None if weights is None else np.array(weights) / sum(weights)
        answers[code] = rng.choice(count, n, p=p).astype(np.int8)
    value_chain = ((rng.random((n, 3)) < 0.3) * np.array([1, 2, 4])).sum(axis=1).astype(np.int8)

    low = np.array([{"micro": 1, "small": 10, "medium": 50, "large": 250}[c] for c in codes["size"]])[size]
    high = np.array([{"micro": 9, "small": 49, "medium": 249, "large": 5000}[c] for c in codes["size"]])[size]
    employees_now = rng.integers(low, high + 1)
    employees_before = np.maximum(0, np.rint(employees_now * rng.uniform(0.85, 1.1, n))).astype(int)
    return Synthetic(codes=codes, cluster_ecosystem=cluster_ecosystem, cluster_country=cluster_country, home=home,
                     second=second, size=size, org_type=org_type, country=country, ecosystem=ecosystem,
                     answers=answers, value_chain=value_chain, employees_now=employees_now,
                     employees_before=employees_before)


def _codes(values: np.ndarray, index: dict[str, int]) -> np.ndarray:
    return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))


# --- Tallies ------------------------------------------------------------------------------------------------

#: Report dimension -> Synthetic attribute and tally column, in the tally key's order.
DIMENSIONS = (("size", "size", "size_class"), ("type", "org_type", "org_type"), ("country", "country", "country"),
              ("ecosystem", "ecosystem", "ecosystem"))


def _tallied_items(s: Synthetic) -> list[tuple[str, list[str], np.ndarray | None]]:
    """(item, answer codes, answer index per response) for every tallied item; None for the multi item."""
    questionnaire = parse(default_document())
    items = [(RESPONSES_ITEM, [""], None)]
    for item in questionnaire.items.values():
        if item.tallied:
            items.append((item.code, [c.code for c in item.choices], s.answers.get(item.code)))
    return sorted(items, key=lambda entry: entry[0])


def _value_chain_choices(s: Synthetic, choices: list[str]) -> dict[str, np.ndarray]:
    """Which responses ticked each choice of value_chain_changes ("none" when they ticked nothing else)."""
    ticked = {code: (s.value_chain & bit) > 0 for code, bit in zip(choices[:3], (1, 2, 4), strict=True)}
    ticked[choices[3]] = s.value_chain == 0
    return ticked


def tally_frame(s: Synthetic, wave_id: int) -> pd.DataFrame:
    """Every tally row (KEY_COLUMNS and n) the app would hold for these responses, in the table's key order."""
    multi_response = np.flatnonzero(s.second >= 0)
    cluster_rows = np.concatenate([np.arange(s.n), multi_response])
    cluster_index = np.concatenate([s.home, s.second[multi_response]])
    names = {name: np.array([ALL, *s.codes[name]], dtype=object) for name, _, _ in DIMENSIONS}
    items = _tallied_items(s)
    frames = []
    for dims in sorted(GRAINS, key=grain_name):
        if "cluster" in dims:
            rows, key, space = cluster_rows, cluster_index.astype(np.int64), s.clusters
        else:
            rows, key, space = np.arange(s.n), np.zeros(s.n, dtype=np.int64), 1
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
                ticked = _value_chain_choices(s, choices)
                per_answer = [(i, np.bincount(key[ticked[code][rows]], minlength=space))
                              for i, code in enumerate(choices)]
            else:
                combined = np.bincount(key * len(choices) + values[rows], minlength=space * len(choices))
                per_answer = [(i, combined[i::len(choices)]) for i in range(len(choices))]
            for answer, counts in per_answer:
                groups = np.flatnonzero(counts)
                blocks.append((groups, np.full(len(groups), rank), np.full(len(groups), answer_ranks[answer]),
                               np.full(len(groups), answer), counts[groups], item, choices))
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

def _answers_json(s: Synthetic, start: int, stop: int) -> np.ndarray:
    """The answers documents of responses start..stop-1, as JSON text, built column by column."""
    questionnaire = parse(default_document())
    parts = []
    for code, values in s.answers.items():
        choices = np.array([json.dumps(c.code) for c in questionnaire.items[code].choices], dtype=object)
        parts.append(f'"{code}": ' + choices[values[start:stop]])
    chain_codes = [c.code for c in questionnaire.items["value_chain_changes"].choices]
    chains = np.array([json.dumps([c for c, bit in zip(chain_codes[:3], (1, 2, 4), strict=True) if mask & bit]
                                  or [chain_codes[3]]) for mask in range(8)], dtype=object)
    parts.append('"value_chain_changes": ' + chains[s.value_chain[start:stop]])
    parts.append('"employees_now": ' + s.employees_now[start:stop].astype(str).astype(object))
    parts.append('"employees_12m_ago": ' + s.employees_before[start:stop].astype(str).astype(object))
    document = parts[0]
    for part in parts[1:]:
        document = document + ", " + part
    return "{" + document + ', "comments": null}'


def _profile(s: Synthetic, start: int, stop: int) -> dict[str, np.ndarray]:
    return {column: np.array(s.codes[name], dtype=object)[getattr(s, attribute)[start:stop]]
            for name, attribute, column in DIMENSIONS}


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
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                               frame.astype(object).where(frame.notna(), None).to_numpy().tolist())
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


def load(engine: Engine, s: Synthetic, now: datetime | None = None, log=print, fast: bool = True) -> dict[str, int]:
    """Create the schema in an empty database and bulk-load the synthetic wave into it. Returns row counts.

    `fast` turns SQLite's journal off while loading: for throw-away benchmark databases only."""
    now = now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    db.metadata.create_all(engine)
    document = default_document()
    questionnaire = parse(document)
    with engine.begin() as conn:
        conn.execute(insert(Questionnaire.__table__).values(id=1, code=questionnaire.code,
                                                            version=questionnaire.version, document=document))
        conn.execute(insert(Wave.__table__).values(
            id=1, slug=WAVE_SLUG, title="Benchmark wave", questionnaire_id=1, state="open", opened_at=now,
            opens_on=date(2021, 3, 1), closes_on=now.date() + timedelta(days=365)))
        conn.execute(insert(Cluster.__table__), [
            {"id": i + 1, "slug": f"cluster-{i + 1:03d}", "name": f"Cluster {i + 1:03d}",
             "country": COUNTRIES[s.cluster_country[i]], "nuts2": None,
             "ecosystem": s.codes["ecosystem"][s.cluster_ecosystem[i]]} for i in range(s.clusters)])
    writer = BulkWriter(engine, fast)
    # As text in SQLAlchemy's SQLite storage format, which PostgreSQL reads too (pandas would make Timestamps).
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    started = time.perf_counter()
    two = np.flatnonzero(s.second >= 0)
    members = pd.DataFrame({"cluster_id": np.concatenate([s.home, s.second[two]]) + 1,
                            "organisation_id": np.concatenate([np.arange(s.n), two]) + 1})
    for start, stop in _chunks(s.n):
        ids = np.arange(start, stop) + 1
        profile = _profile(s, start, stop)
        writer.write("organisation", pd.DataFrame({
            "id": ids, "name": [f"Bench organisation {i}" for i in ids], "country": profile["country"],
            "org_type": profile["org_type"], "size_class": profile["size_class"],
            "ecosystem": profile["ecosystem"], "created_at": stamp}))
        hashes = os.urandom(32 * len(ids)).hex()
        writer.write("invitation", pd.DataFrame({
            "id": ids, "wave_id": 1, "organisation_id": ids,
            "token_hash": [hashes[i * 64:(i + 1) * 64] for i in range(len(ids))], "created_at": stamp}))
        writer.write("response", pd.DataFrame({
            "id": ids, "wave_id": 1, "organisation_id": ids, **profile, "region": None,
            "answers": _answers_json(s, start, stop), "submitted_at": stamp, "updated_at": stamp}))
        log(f"  responses {stop:>9,} of {s.n:,}  ({time.perf_counter() - started:.0f} s)")
    writer.write("membership", members)
    writer.write("response_cluster", members.rename(columns={"organisation_id": "response_id"}))
    writer.commit()
    tallies = tally_frame(s, wave_id=1)
    log(f"  {len(tallies):,} tally rows counted ({time.perf_counter() - started:.0f} s)")
    if writer.postgres:
        # Building the primary key once after the load is much faster than keeping it up to date row by row.
        writer.execute("ALTER TABLE tally DROP CONSTRAINT pk_tally")
    for start, stop in _chunks(len(tallies), 1_000_000):
        writer.write("tally", tallies.iloc[start:stop])
    if writer.postgres:
        writer.execute(f"ALTER TABLE tally ADD CONSTRAINT pk_tally PRIMARY KEY ({', '.join(KEY_COLUMNS)})")
        for table in ("questionnaire", "wave", "cluster", "organisation", "invitation", "response"):
            writer.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        writer.commit()
        writer.connection.autocommit = True
        writer.execute("ANALYZE")  # what autovacuum would soon do on a live database
    writer.commit()
    writer.close()
    log(f"  loaded in {time.perf_counter() - started:.0f} s")
    return {"responses": s.n, "clusters": s.clusters, "tally": len(tallies), "memberships": len(members)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty database (SQLite file or PostgreSQL)")
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    engine = create_engine(args.database_url)
    started = time.perf_counter()
    synthetic = synthesise(args.responses, args.clusters, args.seed)
    print(f"drew {args.responses:,} responses in {time.perf_counter() - started:.1f} s")
    print(load(engine, synthetic))
    engine.dispose()


if __name__ == "__main__":
    main()
