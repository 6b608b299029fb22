"""The linear-programming audit (tests/disclosure_audit.py) on the demo data that `make run` serves (1,200
responses, seed 1, in eight clusters of which pairs share members), for every role, once both waves have closed.

A policymaker (and an admin: the same reports) sees every published count. A manager sees those of their own
clusters and of no cluster in particular, and knows more than anyone: which of their members answered and
their profiles (the roster and the member pages), so the atoms of their cluster are known to them exactly.
Either way, every cell withheld must keep a range of at least k responses, and no published group answers
an item alike.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from reports.aggregate import read_atoms, report_items, wave_protection
from reports.protection import Atom, cell_members
from survey import clock
from survey.cli.demo import DEMO_WAVE, load_demo
from survey.extensions import db
from survey.models import Cluster, Wave
from survey.operations.platform import close_wave
from tests.disclosure_audit import audit

DEMO_RESPONSES, DEMO_SEED = 1200, 1


@pytest.fixture
def demo(app):
    load_demo(DEMO_RESPONSES, DEMO_SEED, clock.now())
    close_wave(db.session.scalars(select(Wave).filter_by(slug=DEMO_WAVE)).one(), clock.now())
    db.session.commit()
    k = int(app.config["MIN_CELL_SIZE"])
    conn = db.session.connection()
    waves = []
    for wave in db.session.scalars(select(Wave).order_by(Wave.id)):
        items = report_items(wave.questionnaire.parsed)
        (atoms,) = read_atoms(conn, wave.id, items)  # never reopened: one round
        waves.append((wave.slug, atoms, items, wave_protection(conn, wave.id, k)))
    return k, waves, [cluster.id for cluster in db.session.scalars(select(Cluster).order_by(Cluster.id))]


def _readers(clusters: list[int]):
    """(role, the published cells it may see, the atoms whose size it knows)."""
    yield "policymaker or admin", lambda cell: True, None
    for cluster in clusters:

        def own(cell, cluster=cluster) -> bool:
            return all(key == cluster for dimension, key in cell if dimension == "cluster")

        def knows(atom: Atom, cluster=cluster) -> bool:
            return cluster in atom.clusters

        yield f"manager of cluster {cluster}", own, knows


def test_no_reader_of_the_demo_can_pin_down_a_withheld_cell(demo):
    k, waves, clusters = demo
    for slug, atoms, _items, protection in waves:
        assert len(protection.published) > 20, f"{slug}: the demo publishes hardly anything"
        members = cell_members(atoms)
        for role, sees, knows in _readers(clusters):
            visible = [cell for cell in protection.published if sees(cell)]
            findings = audit(atoms, visible, k, known=knows)
            if knows is None:
                assert not findings, f"{slug}, {role}: {findings[:3]}"
                continue
            # A manager can work out some withheld cells of k or more responses exactly (docs/reports.md, "What
            # a manager knows"); never one whose responses outside their own members are fewer than k.
            unknown = {
                finding.cell: sum(atoms[i].n for i in members[finding.cell] if not knows(atoms[i]))
                for finding in findings
            }
            small = [finding for finding in findings if unknown[finding.cell] < k]
            assert not small, f"{slug}, {role}: {small[:3]}"


def test_no_published_group_of_the_demo_answers_alike(demo):
    k, waves, _clusters = demo
    for slug, atoms, items, protection in waves:
        members = cell_members(atoms)
        answers = np.array([atom.answers for atom in atoms])
        sizes = np.array([atom.n for atom in atoms])
        for (item, _codes), segment in zip(items.codes, items.segments(), strict=True):
            shown = protection.answers[item]
            assert shown, f"{slug}: no answers to {item} are published"
            for cell in shown:
                counts = answers[members[cell]][:, segment].sum(axis=0)
                assert sizes[members[cell]].sum() >= k and np.count_nonzero(counts) >= 2, (slug, item, cell)
