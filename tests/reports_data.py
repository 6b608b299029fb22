"""Generated survey data for the report tests, and an independent recomputation of every report number.

Responses go in through the real submission operation, so the tallies the reports read are the ones the
app keeps. The expected numbers are recomputed here with pandas from the raw stored answers (Response rows
and their response_cluster snapshot), with suppression re-implemented from its written rules.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import timedelta

import pandas as pd
from sqlalchemy import func, select, text

from survey import clock
from survey.extensions import db
from survey.models import Cluster, Organisation, Response, Wave, response_cluster
from survey.operations.responses import submit_response
from survey.operations.setup import create_wave, invite_organisation, load_questionnaire
from survey.questionnaire import default_document, parse

ANSWERS = ["using", "planning", "not_planned", "dont_know"]
CHALLENGE_CODES = ["1", "2", "3", "4", "5", "na"]
#: Report dimension -> Response column.
COLUMNS = {"size": "size_class", "type": "org_type", "country": "country", "ecosystem": "ecosystem"}

#: Clusters (slug, ecosystem, country) and who is in them: alpha and beta share five members (enough for both to
#: be shown: see docs/reports.md); gamma is below k (5), so delta, the only block it can hide in, is withheld too.
CLUSTERS = [
    ("alpha", "digital", "ES"),
    ("beta", "health", "BE"),
    ("gamma", "textiles", "ES"),
    ("delta", "agri_food", "IT"),
]
MEMBERSHIPS = [("alpha",)] * 15 + [("alpha", "beta")] * 5 + [("beta",)] * 7 + [("gamma",)] * 3 + [("delta",)] * 9
#: Likelihood of "using" per cluster (the rest spread over the other answers), so clusters differ.
USING = {"alpha": 0.6, "beta": 0.35, "gamma": 0.5, "delta": 0.2}


@dataclass
class Scenario:
    wave: Wave
    earlier: Wave
    clusters: dict[str, Cluster]
    organisations: list[Organisation] = field(default_factory=list)

    def cluster_id(self, slug: str) -> int:
        return self.clusters[slug].id


def _answers(rng: random.Random, questionnaire, home: str, shift: float = 0.0) -> dict[str, object]:
    values: dict[str, object] = {}
    for tech in questionnaire.technologies:
        p_using = min(0.95, max(0.02, USING[home] + shift + rng.uniform(-0.2, 0.2)))
        values[tech.code] = rng.choices(
            ANSWERS, weights=[p_using, (1 - p_using) * 0.5, (1 - p_using) * 0.4, (1 - p_using) * 0.1]
        )[0]
    for challenge in questionnaire.challenges:
        values[challenge.code] = rng.choices(CHALLENGE_CODES, weights=[1, 2, 3, 4, 3, 1])[0]
    values.update(
        employees_now=20,
        employees_12m_ago=18,
        skills_share="10_25",
        hard_to_fill="no",
        exports_eu="none",
        exports_non_eu="none",
        value_chain_changes=["none"],
        comments=None,
    )
    return values


#: The tables `populate` writes, parents first: what a snapshot holds.
_WRITTEN = (
    "questionnaire",
    "wave",
    "cluster",
    "organisation",
    "membership",
    "invitation",
    "response",
    "response_cluster",
    "tally",
)
#: Snapshots of populated databases in this test process, by backend, the arguments, and the written tables'
#: state before (see `populate`).
_SNAPSHOTS: dict[tuple, dict[str, list[dict]]] = {}


def _state() -> tuple:
    """What the written tables hold before populating: row counts and highest ids."""
    state = []
    for name in _WRITTEN:
        table = db.metadata.tables[name]
        count = db.session.scalar(select(func.count()).select_from(table))
        top = db.session.scalar(select(func.max(table.c.id))) if "id" in table.c else None
        state.append((name, count, top))
    return tuple(state)


def _rows(name: str) -> list[dict]:
    table = db.metadata.tables[name]
    return [dict(row._mapping) for row in db.session.execute(select(table).order_by(*table.primary_key.columns))]


def _added(before: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The rows of the written tables that are not in `before`."""

    def identity(row: dict) -> object:  # tables with ids by id; the link tables by their (plain) values
        return row["id"] if "id" in row else tuple(sorted(row.items()))

    added = {}
    for name in _WRITTEN:
        seen = {identity(row) for row in before[name]}
        added[name] = [row for row in _rows(name) if identity(row) not in seen]
    return added


def _restore(rows: dict[str, list[dict]]) -> None:
    """Insert a snapshot's rows, ids included, and move PostgreSQL's id sequences past them."""
    for name in _WRITTEN:
        if rows[name]:
            db.session.execute(db.metadata.tables[name].insert(), rows[name])
    if db.session.get_bind().dialect.name == "postgresql":
        for name in _WRITTEN:
            if "id" in db.metadata.tables[name].c:
                db.session.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), coalesce(max(id), 1)) FROM {name}")
                )
    db.session.commit()


def populate(
    make_cluster, make_invited, open_wave, seed: int = 7, extra_name: str | None = None, close: bool = True
) -> Scenario:
    """39 responses to the wave in four overlapping clusters, and 25 of them to an earlier wave; both closed
    (unless `close` is false: then the wave stays open, and nobody sees its results yet).

    Made once per test process through the real operations (64 submissions took one to two seconds a test);
    later tests starting from the same state get the same rows, ids included, inserted directly."""
    dialect = db.session.get_bind().dialect.name
    key = (dialect, seed, extra_name, open_wave.id, _state())
    if key in _SNAPSHOTS:
        _restore(_SNAPSHOTS[key])
        db.session.expire_all()
    else:
        before = {name: _rows(name) for name in _WRITTEN}
        _build(make_cluster, make_invited, open_wave, seed, extra_name)
        _SNAPSHOTS[key] = _added(before)
    if close:  # as a wave is when its results are published to managers and policymakers (release control)
        open_wave.close(clock.now())
        db.session.commit()
    return _scenario(open_wave)


def _scenario(open_wave: Wave) -> Scenario:
    clusters = {slug: db.session.scalars(select(Cluster).filter_by(slug=slug)).one() for slug, _, _ in CLUSTERS}
    earlier = db.session.scalars(select(Wave).filter_by(slug="wave-2019")).one()
    organisations = db.session.scalars(
        select(Organisation)
        .join(Response, Response.organisation_id == Organisation.id)
        .where(Response.wave_id == open_wave.id)
        .order_by(Organisation.id)
    ).all()
    return Scenario(wave=open_wave, earlier=earlier, clusters=clusters, organisations=list(organisations))


def _build(make_cluster, make_invited, open_wave, seed: int, extra_name: str | None) -> None:
    rng = random.Random(seed)
    questionnaire = open_wave.questionnaire.parsed
    clusters = {slug: make_cluster(slug, ecosystem=ecosystem, country=country) for slug, ecosystem, country in CLUSTERS}
    if extra_name is not None:
        clusters["alpha"].name = extra_name
    today = clock.today()
    earlier = create_wave(
        "wave-2019", "Survey 2019", load_questionnaire(), today - timedelta(days=800), today - timedelta(days=700)
    )
    earlier.open(clock.now())  # answered, then closed below: a draft's results are never shown
    db.session.commit()
    sizes = ["micro", "small", "medium"]
    types = ["sme", "sme", "sme", "research_org", "university"]
    now = clock.now()
    for index, member_of in enumerate(MEMBERSHIPS):
        home = member_of[0]
        # Exactly two large organisations: a size group below k, so the size breakdown needs suppression too.
        size = "large" if index in (3, 33) else sizes[index % 3]
        invited = make_invited(
            clusters=[clusters[slug] for slug in member_of], size=size, org_type=types[index % len(types)]
        )
        _, ecosystem, country = next(c for c in CLUSTERS if c[0] == home)
        profile = {
            "country": country if index % 7 else "FR",
            "region": None,
            "org_type": types[index % len(types)],
            "size_class": size,
            "ecosystem": ecosystem,
        }
        submit_response(invited.invitation, {**profile, **_answers(rng, questionnaire, home)}, now)
        if home != "gamma" and index % 3 != 2:
            invitation, _ = invite_organisation(earlier, invited.organisation, now)
            submit_response(invitation, {**profile, **_answers(rng, questionnaire, home, shift=-0.15)}, now)
        db.session.commit()
    earlier.close(clock.now())
    db.session.commit()


# --- The independent recomputation ---------------------------------------------------------------------------


def report_item_codes() -> list[str]:
    questionnaire = parse(default_document())
    return [item.code for item in (*questionnaire.technologies, *questionnaire.challenges)]


def raw_responses() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every stored response with its answers spread into columns, and the response -> cluster snapshot."""
    rows = db.session.execute(
        select(
            Response.id,
            Response.wave_id,
            Response.size_class,
            Response.org_type,
            Response.country,
            Response.ecosystem,
            Response.answers,
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["id", "wave_id", "size_class", "org_type", "country", "ecosystem", "answers"])
    answers = pd.DataFrame(frame["answers"].tolist(), index=frame.index)
    frame = pd.concat([frame.drop(columns="answers"), answers], axis=1)
    members = pd.DataFrame(
        db.session.execute(select(response_cluster.c.response_id, response_cluster.c.cluster_id)).all(),
        columns=["id", "cluster_id"],
    )
    return frame, members


def wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


DIMENSIONS = ("cluster", "size", "type", "country", "ecosystem")


def reference_published(rows, items, k: int) -> tuple[frozenset, dict[str, frozenset]]:
    """The written rule of docs/reports.md, recomputed response by response with plain sets: the cells whose
    number of responses is published, and per item the cells whose answers to it are.

    `rows` are (clusters, (size, type, country, ecosystem), answers) per response; `items` the report items."""
    cells: dict[tuple, set[int]] = {}
    for index, (clusters, profile, _) in enumerate(rows):
        values = {"cluster": sorted(clusters), **{d: [v] for d, v in zip(DIMENSIONS[1:], profile, strict=True)}}
        for chosen in itertools.product(*([None, *values[d]] for d in DIMENSIONS)):
            cell = tuple(sorted((d, v) for d, v in zip(DIMENSIONS, chosen, strict=True) if v is not None))
            cells.setdefault(cell, set()).add(index)
    order = sorted(
        (cell for cell, members in cells.items() if cell and len(members) >= k),
        key=lambda cell: (len(cell), "cluster" not in dict(cell), -len(cells[cell]), repr(cell)),
    )
    published = _unions_of_blocks(rows, cells, order, k, None)
    return published, {item: published & _unions_of_blocks(rows, cells, order, k, item) for item in items}


def _unions_of_blocks(rows, cells: dict, order: list, k: int, item: str | None) -> frozenset:
    """Blocks are sets of response indices: one block of everyone, split by each cell of `order` in turn when
    every block it cuts leaves two parts of at least k responses (with two different answers to `item`, if
    given); the cells that are unions of blocks."""

    def safe(part: set[int]) -> bool:
        return len(part) >= k and (item is None or len({rows[index][2].get(item) for index in part} - {None}) != 1)

    everyone = set(range(len(rows)))
    if not rows or not safe(everyone):
        return frozenset()
    blocks = [everyone]
    for cell in order:
        members = cells[cell]
        cut = [block for block in blocks if block & members and not block <= members]
        if all(safe(block & members) and safe(block - members) for block in cut):
            blocks = [
                part for block in blocks for part in ((block & members, block - members) if block in cut else (block,))
            ]
    return frozenset(
        cell for cell, members in cells.items() if all(block <= members for block in blocks if block & members)
    )


class Reference:
    """Report numbers recomputed from the raw responses of some waves."""

    def __init__(self, responses: pd.DataFrame, members: pd.DataFrame, k: int = 5, items: list[str] | None = None):
        self.responses = responses
        self.members = members
        self.k = k
        #: The items reports show (the technologies and challenges), whose answers the dominance rule reads.
        self.items = items if items is not None else report_item_codes()
        self._published: dict[int, frozenset] = {}

    def population(self, wave_id: int, filters: dict) -> pd.DataFrame:
        frame = self.responses[self.responses["wave_id"] == wave_id]
        for dimension, value in filters.items():
            if dimension == "cluster":
                ids = self.members[self.members["cluster_id"] == value]["id"]
                frame = frame[frame["id"].isin(ids)]
            else:
                frame = frame[frame[COLUMNS[dimension]] == value]
        return frame

    def grouped(self, frame: pd.DataFrame, by: str) -> pd.DataFrame:
        """The frame with a `group` column; a response appears once per cluster in the cluster breakdown."""
        if by == "cluster":
            return frame.merge(self.members, on="id").rename(columns={"cluster_id": "group"})
        return frame.assign(group=frame[COLUMNS[by]])

    def sizes(self, wave_id: int, filters: dict, by: str) -> dict:
        return self.grouped(self.population(wave_id, filters), by).groupby("group").size().to_dict()

    def published(self, wave_id: int) -> tuple[frozenset, dict[str, frozenset]]:
        """The wave's published cells and answers by the written rule (`reference_published`), from the raw
        responses."""
        if wave_id not in self._published:
            frame = self.responses[self.responses["wave_id"] == wave_id]
            clusters = self.members.groupby("id")["cluster_id"].apply(frozenset).to_dict()
            rows = [
                (
                    clusters.get(row["id"], frozenset()),
                    tuple(row[COLUMNS[d]] for d in DIMENSIONS[1:]),
                    {item: row.get(item) for item in self.items},
                )
                for row in frame.to_dict("records")
            ]
            self._published[wave_id] = reference_published(rows, self.items, self.k)
        return self._published[wave_id]

    def cell_withheld(self, wave_id: int, filters: dict) -> bool:
        return tuple(sorted(filters.items())) not in self.published(wave_id)[0]

    def answers_withheld(self, wave_id: int, filters: dict, item: str) -> bool:
        return tuple(sorted(filters.items())) not in self.published(wave_id)[1].get(item, frozenset())

    def withheld_groups(self, wave_id: int, filters: dict, by: str) -> set:
        return {
            group for group in self.sizes(wave_id, filters, by) if self.cell_withheld(wave_id, {**filters, by: group})
        }

    def table(self, wave_id: int, filters: dict, by: str | None, items: list[str], codes: list[str]) -> dict:
        """(group, item) -> counts per code, n, shares, Wilson interval of 'using', and whether withheld."""
        frame = self.population(wave_id, filters)
        if by is None:
            frame = frame.assign(group=None)
            withheld = {None} if self.cell_withheld(wave_id, filters) else set()
        else:
            frame = self.grouped(frame, by)
            withheld = self.withheld_groups(wave_id, filters, by)
        expected = {}
        for group, part in frame.groupby("group", dropna=False):
            group = None if by is None else group
            for item in items:
                counts = part[item].value_counts().to_dict()
                n = int(sum(counts.get(code, 0) for code in codes))
                row = {code: int(counts.get(code, 0)) for code in codes}
                cell = filters if by is None else {**filters, by: group}
                row.update(
                    n=n,
                    suppressed=group in withheld or n < self.k or self.answers_withheld(wave_id, cell, item),
                )
                row["shares"] = {code: row[code] / n for code in codes} if n else {}
                if "using" in codes and n:
                    row["ci_using"] = wilson(row["using"], n)
                    row["ci_using_or_planning"] = wilson(row["using"] + row["planning"], n)
                expected[(group, item)] = row
        return expected
