"""Generated survey data for the report tests, and an independent recomputation of every report number.

Responses go in through the real submission operation, so the tallies the reports read are the ones the
app keeps. The expected numbers are recomputed here with pandas from the raw stored answers (Response rows
and their response_cluster snapshot), with suppression re-implemented from its written rules.
"""

from __future__ import annotations

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

ANSWERS = ["using", "planning", "not_planned", "dont_know"]
CHALLENGE_CODES = ["1", "2", "3", "4", "5", "na"]
#: Report dimension -> Response column.
COLUMNS = {"size": "size_class", "type": "org_type", "country": "country", "ecosystem": "ecosystem"}

#: Clusters (slug, ecosystem, country) and who is in them: alpha and beta overlap; gamma is below k (5),
#: so delta, the next smallest, is withheld with it.
CLUSTERS = [
    ("alpha", "digital", "ES"),
    ("beta", "health", "BE"),
    ("gamma", "textiles", "ES"),
    ("delta", "agri_food", "IT"),
]
MEMBERSHIPS = [("alpha",)] * 16 + [("alpha", "beta")] * 4 + [("beta",)] * 8 + [("gamma",)] * 3 + [("delta",)] * 8
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


def populate(make_cluster, make_invited, open_wave, seed: int = 7, extra_name: str | None = None) -> Scenario:
    """39 responses to the open wave in four overlapping clusters, and 25 of them to an earlier wave.

    Made once per test process through the real operations (64 submissions took one to two seconds a test);
    later tests starting from the same state get the same rows, ids included, inserted directly."""
    dialect = db.session.get_bind().dialect.name
    key = (dialect, seed, extra_name, open_wave.id, _state())
    if key in _SNAPSHOTS:
        _restore(_SNAPSHOTS[key])
        db.session.expire_all()
        return _scenario(open_wave)
    before = {name: _rows(name) for name in _WRITTEN}
    _build(make_cluster, make_invited, open_wave, seed, extra_name)
    _SNAPSHOTS[key] = _added(before)
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


def reference_withhold(sizes: dict, k: int, total_withheld: bool) -> set:
    """The written rule: below k withheld; then, while the withheld hold fewer than k together, the smallest
    shown group too (ties: the smaller key as text); everything when the total is withheld."""
    if total_withheld:
        return set(sizes)
    withheld = {key for key, n in sizes.items() if n < k}
    shown = sorted((key for key in sizes if key not in withheld), key=lambda key: (sizes[key], str(key)))
    while withheld and shown and sum(sizes[key] for key in withheld) < k:
        withheld.add(shown.pop(0))
    return withheld


class Reference:
    """Report numbers recomputed from the raw responses of some waves."""

    def __init__(self, responses: pd.DataFrame, members: pd.DataFrame, k: int = 5):
        self.responses = responses
        self.members = members
        self.k = k

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

    def cell_withheld(self, wave_id: int, filters: dict) -> bool:
        if len(self.population(wave_id, filters)) < self.k:
            return True
        for dimension, value in filters.items():
            rest = {d: v for d, v in filters.items() if d != dimension}
            if value in self.withheld_groups(wave_id, rest, dimension) or value not in self.sizes(
                wave_id, rest, dimension
            ):
                return True
        return False

    def withheld_groups(self, wave_id: int, filters: dict, by: str) -> set:
        return reference_withhold(self.sizes(wave_id, filters, by), self.k, self.cell_withheld(wave_id, filters))

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
                row.update(n=n, suppressed=group in withheld or n < self.k)
                row["shares"] = {code: row[code] / n for code in codes} if n else {}
                if "using" in codes and n:
                    row["ci_using"] = wilson(row["using"], n)
                    row["ci_using_or_planning"] = wilson(row["using"] + row["planning"], n)
                expected[(group, item)] = row
        return expected
