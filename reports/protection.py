"""Which cells of a wave may be published: protected partitions per wave, from which every published figure is a
sum (security requirements 14 and 15, issue 15). The design and its proof are in docs/reports.md.

An *atom* is the set of a wave's responses that no report can tell apart: the same clusters (as counted at
submission), size, type, country and ecosystem. Every figure any report shows is a sum over atoms: a cell chosen
by filters ("micro organisations in cluster 3") adds up the atoms it contains, and so do its answer counts.

`protect` partitions the atoms into *blocks* of at least k responses, and publishes a cell's number of responses
exactly when the cell is a union of whole blocks. For every cell withheld, some block lies partly inside it and
partly outside, and moving responses between those two parts changes no published figure: the withheld cell
could hold any number across a range at least k wide, whatever else a reader combines (every table, filter and
role; each wave has its own partitions, and waves share no responses).

Answers have a partition of their own per item, whose blocks must in addition hold two different answers to
it: a cell shows its answers to an item only when it is a union of those blocks too (and is itself published).
So no published group is unanimous on an item, and knowing who is in a group never tells what a member answered
(the dominance rule); where answers are withheld, swapping two differing answers between the parts of a block
changes the cell's answers and nothing published.

A wave reopened after closing collects its late answers as a set of their own (a *round*: the answers counted at
the first close are round 0, those of the n-th reopening round n), and the figures published at its next close
would show a reader comparing them with the earlier ones what the late answers are. So each round has its own
partitions, and a cell is published when, in every round, it is a union of that round's blocks or holds none
of its responses (`protect_rounds`): whatever two publications a reader subtracts, the difference in a cell is
the late rounds' count there, itself a union of their blocks. Answers counted in a round are not changed later.

A partition is made by refining: it starts with one block of everything, and the cells with at least k
responses are taken in turn (one filter before two, cells with a cluster first, larger before smaller); each
splits every block it cuts into the part inside and the part outside when all those parts are still safe
blocks, and is skipped (stays withheld) otherwise.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from reports.context import Key
from reports.dimensions import PROFILE_DIMENSIONS, Filters

#: The profile dimensions of an atom, in the order of `Atom.profile`.
PROFILE_NAMES: tuple[str, ...] = tuple(d.name for d in PROFILE_DIMENSIONS)


@dataclass(frozen=True)
class Atom:
    """Responses that share clusters and profile, with how many gave each answer."""

    clusters: frozenset[int]
    #: size, type, country, ecosystem (PROFILE_NAMES order).
    profile: tuple[str, ...]
    n: int
    #: Responses per answer code of each item shown in reports, in the order of `Items`.
    answers: tuple[int, ...] = ()


@dataclass(frozen=True)
class Items:
    """The items reports show and their answer codes: the columns of `Atom.answers`, item after item."""

    codes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def width(self) -> int:
        return sum(len(codes) for _, codes in self.codes)

    def vector(self, answers: Mapping[str, object]) -> tuple[int, ...]:
        """One response's column of answer counts (1 where it gave that answer)."""
        return tuple(int(answers.get(item) == code) for item, codes in self.codes for code in codes)

    def segments(self) -> list[slice]:
        segments, start = [], 0
        for _, codes in self.codes:
            segments.append(slice(start, start + len(codes)))
            start += len(codes)
        return segments


@dataclass(frozen=True)
class Protection:
    """A wave's published cells, decided once for all its tables."""

    k: int
    #: Every cell whose number of responses may be published (filters in `Filters` form, sorted).
    published: frozenset[Filters] = field(default_factory=frozenset)
    #: Per item: the published cells whose answers to it may be published too (not all alike).
    answers: Mapping[str, frozenset[Filters]] = field(default_factory=dict)

    def withheld(self, filters: Filters) -> bool:
        return filters not in self.published

    def answers_withheld(self, filters: Filters, item: str) -> bool:
        """Are the answers to `item` in this cell withheld (the cell is, or its answers are all alike)? An item
        without a partition of its own (none that reports show) goes with its cell."""
        if item not in self.answers:
            return self.withheld(filters)
        return filters not in self.answers[item]


#: Goes into a stored partition's fingerprint: a change to the rule below makes every stored one obsolete.
RULE_VERSION = 1


def encode(protection: Protection) -> bytes:
    """The protection as compressed JSON, for storing: its cells, and per item the positions of its cells among
    them (cluster keys are numbers, every other key text, as JSON keeps them)."""
    published = sorted(protection.published, key=repr)
    position = {cell: index for index, cell in enumerate(published)}
    document = {
        "k": protection.k,
        "published": [[list(pair) for pair in cell] for cell in published],
        "answers": {item: sorted(position[cell] for cell in cells) for item, cells in protection.answers.items()},
    }
    return zlib.compress(json.dumps(document, separators=(",", ":")).encode())


def decode(data: bytes) -> Protection:
    document = json.loads(zlib.decompress(data))
    published = [tuple((dimension, key) for dimension, key in cell) for cell in document["published"]]
    return Protection(
        k=document["k"],
        published=frozenset(published),
        answers={item: frozenset(published[i] for i in indices) for item, indices in document["answers"].items()},
    )


def cells_of(atom: Atom) -> Iterable[Filters]:
    """Every cell (set of filters, at most one per dimension) that holds this atom."""
    dimensions = ("cluster", *PROFILE_NAMES)
    values: dict[str, Sequence[Key]] = {"cluster": sorted(atom.clusters)}
    values.update({name: (value,) for name, value in zip(PROFILE_NAMES, atom.profile, strict=True)})
    for size in range(len(dimensions) + 1):
        for chosen in combinations(dimensions, size):
            yield from _assignments(chosen, values)


def _assignments(chosen: Sequence[str], values: Mapping[str, Sequence[Key]]) -> Iterable[Filters]:
    if not chosen:
        yield ()
        return
    first, rest = chosen[0], chosen[1:]
    for value in values[first]:
        for tail in _assignments(rest, values):
            yield tuple(sorted(((first, value), *tail)))


def cell_members(atoms: Sequence[Atom]) -> dict[Filters, list[int]]:
    """Every cell with responses -> the indices of the atoms it holds."""
    members: dict[Filters, list[int]] = {}
    for index, atom in enumerate(atoms):
        for cell in cells_of(atom):
            members.setdefault(cell, []).append(index)
    return members


def _priority(cell: Filters, cell_n: Mapping[Filters, int]) -> tuple:
    """The order cells are tried in: fewer filters first; among equals those with a cluster (the brief's chart,
    adoption by technology and cluster, and a manager's own cluster come before profile breakdowns), then the
    larger; ties by the cell's text, so that the partition is repeatable."""
    return (len(cell), not any(dimension == "cluster" for dimension, _ in cell), -cell_n[cell], repr(cell))


def protect(atoms: Sequence[Atom], items: Items, k: int) -> Protection:
    """The wave's protected partitions and the cells they let reports publish: one partition for the numbers of
    responses, and one per item for its answers (each of those parts also has two different answers)."""
    atoms = [atom for atom in atoms if atom.n > 0]
    if not atoms:
        return Protection(k=k, answers={item: frozenset() for item, _ in items.codes})
    width = items.width
    answers = np.array([atom.answers or (0,) * width for atom in atoms], dtype=np.int64).reshape(len(atoms), width)
    sizes = np.array([atom.n for atom in atoms], dtype=np.int64)

    members = {cell: np.asarray(indices) for cell, indices in cell_members(atoms).items()}
    cell_n = {cell: int(sizes[indices].sum()) for cell, indices in members.items()}
    candidates = sorted(
        (cell for cell, n in cell_n.items() if n >= k and cell), key=lambda cell: _priority(cell, cell_n)
    )

    published = _partition(members, cell_n, candidates, sizes, None, k)
    if k <= 1:  # no disclosure control at all (tests that show groups of one; configuration refuses it)
        return Protection(k=k, published=frozenset(published))
    by_item = {
        item: frozenset(_partition(members, cell_n, candidates, sizes, answers[:, segment], k) & published)
        for (item, _), segment in zip(items.codes, items.segments(), strict=True)
    }
    return Protection(k=k, published=frozenset(published), answers=by_item)


def _partition(
    members: Mapping[Filters, np.ndarray],
    cell_n: Mapping[Filters, int],
    candidates: Sequence[Filters],
    sizes: np.ndarray,
    answers: np.ndarray | None,
    k: int,
) -> set[Filters]:
    """Refine one block of everything by each candidate cell in turn (see the module's text); the cells that end
    up unions of blocks. With `answers` (responses per answer code of one item, per
    atom), every block must also hold two different answers to the item."""

    def safe(n: int, counts: np.ndarray | None) -> bool:
        return n >= k and (counts is None or np.count_nonzero(counts) != 1)

    block_of = np.zeros(len(sizes), dtype=np.int64)
    block_n = [int(sizes.sum())]
    block_answers = [None if answers is None else answers.sum(axis=0)]
    if not safe(block_n[0], block_answers[0]):
        return set()  # not even everything together may be shown
    for cell in candidates:
        indices = members[cell]
        touched = block_of[indices]
        splits = []
        first = int(touched[0])
        # Most cells lie inside one block (a finer cell within a coarser one already split off): skip unique().
        blocks = [first] if (touched == first).all() else np.unique(touched).tolist()
        for block in blocks:
            inside = indices if len(blocks) == 1 else indices[touched == block]
            n_in = int(sizes[inside].sum())
            if n_in == block_n[block]:
                continue  # the whole block is inside: nothing to split
            counts_in = None if answers is None else answers[inside].sum(axis=0)
            counts_out = None if counts_in is None else block_answers[block] - counts_in
            if not (safe(n_in, counts_in) and safe(block_n[block] - n_in, counts_out)):
                break  # a part would be too small or unanimous: the cell stays withheld
            splits.append((block, inside, n_in, counts_in, counts_out))
        else:
            for block, inside, n_in, counts_in, counts_out in splits:
                block_of[inside] = len(block_n)
                block_n.append(n_in)
                block_answers.append(counts_in)
                block_n[block] -= n_in
                block_answers[block] = counts_out
    # Only cells of at least k responses can be unions of blocks (each block holds k or more).
    published = set()
    for cell in ((), *candidates):
        touched = block_of[members[cell]]
        first = int(touched[0])
        blocks = [first] if (touched == first).all() else np.unique(touched).tolist()
        if sum(block_n[block] for block in blocks) == cell_n[cell]:
            published.add(cell)
    return published


def protect_rounds(rounds: Sequence[Sequence[Atom]], items: Items, k: int) -> Protection:
    """The protection of a wave whose responses came in rounds (closes and reopenings; see the module's text):
    a cell is published, and its answers to an item, when every round publishes it or has no response in it."""
    if len(rounds) <= 1 or k <= 1:
        return protect([atom for atoms in rounds for atom in atoms], items, k)
    parts = [(protect(atoms, items, k), set(cell_members([atom for atom in atoms if atom.n > 0]))) for atoms in rounds]
    cells = set().union(*(present for _, present in parts))

    def everywhere(cell: Filters, shown: Callable[[Protection], frozenset[Filters]]) -> bool:
        return all(cell in shown(part) or cell not in present for part, present in parts)

    def answers_to(item: str) -> Callable[[Protection], frozenset[Filters]]:
        return lambda part: part.answers[item]

    published = frozenset(cell for cell in cells if everywhere(cell, lambda part: part.published))
    answers = {
        item: frozenset(cell for cell in published if everywhere(cell, answers_to(item))) for item, _ in items.codes
    }
    return Protection(k=k, published=published, answers=answers)
