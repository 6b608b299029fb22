"""The tally table agrees with an independent count over the stored responses."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from sqlalchemy import delete, select, update

from survey.extensions import db
from survey.models import Response, Tally, response_cluster
from survey.models.tallies import ALL, ALL_CLUSTERS, RESPONSES_ITEM
from tests.conftest import complete_answers, csrf_token

# The dialect matters here: run on PostgreSQL too (tests/conftest.py).
pytestmark = pytest.mark.both_databases

TECHNOLOGIES = ["cloud", "ai", "blockchain"]


def _tallies(grain: str) -> pd.DataFrame:
    rows = db.session.execute(select(Tally).where(Tally.grain == grain, Tally.n != 0)).scalars()
    return pd.DataFrame(
        [
            (t.wave_id, t.cluster_id, t.size_class, t.org_type, t.country, t.ecosystem, t.item, t.answer, t.n)
            for t in rows
        ],
        columns=["wave_id", "cluster_id", "size_class", "org_type", "country", "ecosystem", "item", "answer", "n"],
    )


def _responses() -> pd.DataFrame:
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
    for tech in TECHNOLOGIES:
        frame[tech] = frame["answers"].map(lambda answers, tech=tech: answers[tech])
    return frame


def _memberships() -> pd.DataFrame:
    rows = db.session.execute(select(response_cluster.c.response_id, response_cluster.c.cluster_id)).all()
    return pd.DataFrame(rows, columns=["id", "cluster_id"])


def _expected(frame: pd.DataFrame, keys: list[str]) -> dict[tuple, int]:
    counts = {}
    for tech in TECHNOLOGIES:
        for key, n in frame.groupby([*keys, tech]).size().items():
            counts[(*key[:-1], tech, key[-1])] = n
    for key, n in frame.groupby(keys).size().items():
        counts[(*(key if isinstance(key, tuple) else (key,)), RESPONSES_ITEM, "")] = n
    return counts


def _actual(grain: str, keys: list[str]) -> dict[tuple, int]:
    frame = _tallies(grain)
    frame = frame[frame["item"].isin([*TECHNOLOGIES, RESPONSES_ITEM])]
    return {tuple(row[k] for k in [*keys, "item", "answer"]): row["n"] for _, row in frame.iterrows()}


def test_tallies_match_a_recount_of_the_demo_responses(runner):
    assert runner.invoke(args=["demo", "--responses", "150", "--seed", "11"]).exit_code == 0
    responses = _responses()
    by_cluster = responses.merge(_memberships(), on="id")
    # An organisation in two clusters counts in both clusters, but once in the total.
    assert len(by_cluster) > len(responses)

    assert _actual("total", ["wave_id"]) == _expected(responses, ["wave_id"])
    assert _actual("cluster", ["wave_id", "cluster_id"]) == _expected(by_cluster, ["wave_id", "cluster_id"])
    assert _actual("size", ["wave_id", "size_class"]) == _expected(responses, ["wave_id", "size_class"])
    full = ["wave_id", "size_class", "org_type", "country", "ecosystem"]
    assert _actual("size+type+country+ecosystem", full) == _expected(responses, full)
    assert _actual("cluster+size+type+country+ecosystem", ["cluster_id", *full]) == _expected(
        by_cluster, ["cluster_id", *full]
    )
    # Columns outside a grain hold the "all" marker.
    totals = _tallies("total")
    assert set(totals["cluster_id"]) == {ALL_CLUSTERS} and set(totals["size_class"]) == {ALL}


def test_tallies_follow_changed_answers_and_profile(client, make_invited, make_cluster):
    shared = make_cluster("shared")
    invited = make_invited(clusters=[shared, make_cluster("second")])
    questionnaire = invited.wave.questionnaire.parsed

    def submit(**overrides):
        page = client.get(invited.url).get_data(as_text=True)
        data = {**complete_answers(questionnaire, **overrides), "action": "submit", "csrf_token": csrf_token(page)}
        assert client.post(invited.url, data=data).status_code == 303

    submit(cloud="using", size_class="small")
    submit(cloud="planning", size_class="large")
    responses = _responses()
    assert _actual("total", ["wave_id"]) == _expected(responses, ["wave_id"])
    assert _actual("size", ["wave_id", "size_class"]) == _expected(responses, ["wave_id", "size_class"])
    by_cluster = responses.merge(_memberships(), on="id")
    assert len(by_cluster) == 2
    assert _actual("cluster", ["wave_id", "cluster_id"]) == _expected(by_cluster, ["wave_id", "cluster_id"])


def test_tallies_rebuild_repairs_damaged_counts_from_the_stored_responses(runner):
    """`flask tallies rebuild` (docs/deploy.md's repair step) puts back exactly what submissions counted."""
    assert runner.invoke(args=["demo", "--responses", "60", "--seed", "5"]).exit_code == 0
    before = {
        grain: _tallies(grain).sort_values(list(_tallies(grain).columns)).reset_index(drop=True)
        for grain in ("total", "cluster", "cluster+size+type+country+ecosystem")
    }
    # Damage: a lost row and a wrong count, as a failed manual fix or a restore from mismatched backups would.
    db.session.execute(delete(Tally).where(Tally.grain == "cluster", Tally.item == "cloud"))
    db.session.execute(update(Tally).where(Tally.grain == "total", Tally.item == RESPONSES_ITEM).values(n=1))
    db.session.commit()
    assert not _tallies("total").equals(before["total"])

    result = runner.invoke(args=["tallies", "rebuild"])  # every wave
    assert result.exit_code == 0, result.output
    assert re.search(r"^demo-2021\t60 responses counted$", result.output, re.MULTILINE)
    assert re.search(r"^demo-2019\t\d+ responses counted$", result.output, re.MULTILINE)
    db.session.expire_all()
    for grain, expected in before.items():
        rebuilt = _tallies(grain).sort_values(list(expected.columns)).reset_index(drop=True)
        pd.testing.assert_frame_equal(rebuilt, expected)
    responses = _responses()
    assert _actual("total", ["wave_id"]) == _expected(responses, ["wave_id"])


def test_tallies_rebuild_names_an_unknown_wave(runner):
    result = runner.invoke(args=["tallies", "rebuild", "no-such-wave"])
    assert result.exit_code == 2 and "no survey wave 'no-such-wave'" in result.output
