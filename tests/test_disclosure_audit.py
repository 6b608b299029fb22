"""The guarantee of docs/reports.md, checked by linear programming: no withheld cell can be pinned down.

Generated datasets (Hypothesis) with overlapping clusters, groups of one organisation and groups where everyone
gave the same answer: every cell the wave's protection withholds keeps a feasible range at least k wide given
every count it publishes (tests/disclosure_audit.py), every published cell has at least k responses and two
different answers to each item, and what the protection publishes is what an independent recomputation from
the written rule publishes.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.protection import Atom, Items, cell_members, cells_of, protect, protect_rounds
from tests.disclosure_audit import audit, audit_rounds
from tests.reports_data import reference_published

ITEMS = Items((("ai", ("using", "planning", "not_planned")), ("cloud", ("using", "not_planned"))))
SIZES, TYPES, COUNTRIES, ECOSYSTEMS = ("micro", "small", "large"), ("sme", "university"), ("ES", "IT"), ("digital",)
CLUSTER_SETS = [frozenset(s) for s in ({1}, {2}, {3}, {1, 2}, {2, 3})]


@st.composite
def responses(draw, most: int = 60) -> list[tuple[frozenset[int], tuple[str, ...], dict[str, str]]]:
    """Up to `most` responses; sometimes everyone (or a whole cluster) gives one answer to an item."""
    count = draw(st.integers(0, most))
    unanimous = draw(st.sampled_from([None, "ai", "cloud"]))
    rows = []
    for _ in range(count):
        clusters = draw(st.sampled_from(CLUSTER_SETS))
        profile = (
            draw(st.sampled_from(SIZES)),
            draw(st.sampled_from(TYPES)),
            draw(st.sampled_from(COUNTRIES)),
            draw(st.sampled_from(ECOSYSTEMS)),
        )
        answers = {item: draw(st.sampled_from(codes)) for item, codes in ITEMS.codes}
        if unanimous and 1 in clusters:
            answers[unanimous] = "using"
        rows.append((clusters, profile, answers))
    return rows


def atoms_of(rows, items: Items = ITEMS) -> list[Atom]:
    return [Atom(clusters=c, profile=p, n=n, answers=a) for (c, p), (n, a) in _group(rows, items).items()]


@settings(max_examples=220, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rows=responses(), k=st.sampled_from([3, 5]))
def test_no_withheld_cell_can_be_narrowed_below_k_by_every_published_count(rows, k):
    atoms = atoms_of(rows)
    protection = protect(atoms, ITEMS, k)
    findings = audit(atoms, protection.published, k)
    assert not findings, findings[:3]


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rows=responses(), k=st.sampled_from([3, 5]))
def test_published_cells_are_large_varied_and_what_the_written_rule_publishes(rows, k):
    atoms = atoms_of(rows)
    protection = protect(atoms, ITEMS, k)
    members = cell_members(atoms)
    for cell in protection.published:
        assert sum(atoms[index].n for index in members[cell]) >= k, cell
    for (item, _), segment in zip(ITEMS.codes, ITEMS.segments(), strict=True):
        for cell in protection.answers[item]:
            assert cell in protection.published
            inside = [atoms[index] for index in members[cell]]
            given_answers = {code for atom in inside for code, count in enumerate(atom.answers[segment]) if count}
            assert len(given_answers) != 1, f"{item} in {cell} is unanimous"
    published, answers = reference_published(rows, [item for item, _ in ITEMS.codes], k)
    assert protection.published == published
    assert protection.answers == answers


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(first=responses(40), late=responses(20), k=st.sampled_from([3, 5]))
def test_a_reopened_wave_s_two_publications_together_pin_down_no_small_group(first, late, k):
    """The figures of the first close, and those of the second one with the late answers: a reader who keeps
    both learns no group of fewer than k responses, late or not, and no cell the second one withholds."""
    rounds = [atoms_of(first), atoms_of(late)]
    publications = [(0, protect(rounds[0], ITEMS, k).published), (1, protect_rounds(rounds, ITEMS, k).published)]
    findings = audit_rounds(rounds, publications, k)
    assert not findings, findings[:3]


@settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(first=responses(40), late=responses(20), k=st.sampled_from([3, 5]))
def test_a_reopened_wave_shows_answers_only_where_each_round_s_answers_are_protected(first, late, k):
    """The difference between the two publications' answers in a cell is the late answers there: each round's
    part of a cell whose answers are shown is empty or holds two different answers (and k responses)."""
    rounds = [atoms_of(first), atoms_of(late)]
    combined = protect_rounds(rounds, ITEMS, k)
    for (item, _), segment in zip(ITEMS.codes, ITEMS.segments(), strict=True):
        for cell in combined.answers[item]:
            assert cell in combined.published
            for atoms in rounds:
                members = cell_members(atoms).get(cell, [])
                given_answers = {c for i in members for c, count in enumerate(atoms[i].answers[segment]) if count}
                assert not members or (len(given_answers) > 1 and sum(atoms[i].n for i in members) >= k), cell


def test_the_second_publication_made_from_all_answers_together_would_give_late_ones_away():
    """Why late answers are protected on their own: one late response, published with everything else by the
    rule for a single close, is the difference between the two publications (the audit finds it)."""
    first = [(frozenset({1}), ("small", "sme", "ES", "digital"), {"ai": "using", "cloud": "using"})] * 6
    first += [(frozenset({1}), ("micro", "sme", "ES", "digital"), {"ai": "planning", "cloud": "not_planned"})] * 6
    late = [(frozenset({1}), ("small", "sme", "ES", "digital"), {"ai": "not_planned", "cloud": "using"})]
    rounds = [atoms_of(first), atoms_of(late)]
    naive = protect(atoms_of(first + late), ITEMS, 5).published
    assert audit_rounds(rounds, [(0, protect(rounds[0], ITEMS, 5).published), (1, naive)], 5)
    combined = protect_rounds(rounds, ITEMS, 5)
    assert ((("cluster", 1),)) not in combined.published  # the late answer is in it: withheld
    assert (("size", "micro"),) in combined.published  # no late answer there: as published at the first close
    assert not audit_rounds(rounds, [(0, protect(rounds[0], ITEMS, 5).published), (1, combined.published)], 5)


def test_one_organisation_in_two_clusters_is_not_given_away_by_the_two_cluster_totals():
    """Clusters 1 and 2 share one member: publishing both totals and everything else would give its answers
    as (cluster 1 + cluster 2 - all); one of the two clusters is withheld instead."""
    rows = []
    for index in range(12):
        rows.append((frozenset({1}), ("small", "sme", "ES", "digital"), {"ai": ["using", "planning"][index % 2]}))
        rows.append((frozenset({2}), ("small", "sme", "ES", "digital"), {"ai": ["using", "not_planned"][index % 2]}))
    rows.append((frozenset({1, 2}), ("large", "sme", "ES", "digital"), {"ai": "planning"}))
    items = Items((("ai", ("using", "planning", "not_planned")),))
    atoms = atoms_of(rows, items)
    protection = protect(atoms, items, 5)
    published_clusters = {cell for cell in protection.published if len(cell) == 1 and cell[0][0] == "cluster"}
    assert () in protection.published
    assert len(published_clusters) == 1
    assert not audit(atoms, protection.published, 5)
    # The rule the old code applied (every cluster of 5 or more shown) lets the LP pin the shared member down.
    everything = {(), (("cluster", 1),), (("cluster", 2),)}
    assert any(finding.width == 0 and finding.n == 1 for finding in audit(atoms, everything, 5))


def _group(rows, items: Items) -> dict:
    grouped: dict = {}
    for clusters, profile, answers in rows:
        n, counts = grouped.get((clusters, profile), (0, (0,) * items.width))
        grouped[(clusters, profile)] = (n + 1, tuple(a + b for a, b in zip(counts, items.vector(answers), strict=True)))
    return grouped


def test_every_cell_of_an_atom_is_listed_once():
    atom = Atom(clusters=frozenset({1, 2}), profile=("small", "sme", "ES", "digital"), n=1)
    cells = list(cells_of(atom))
    assert len(cells) == len(set(cells)) == 2 * 2**4 + 2**4  # with cluster 1, with cluster 2, without a cluster
    assert Counter(len(cell) for cell in cells)[5] == 2
    assert all(cell == tuple(sorted(cell)) for cell in cells)
