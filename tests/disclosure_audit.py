"""The disclosure audit: what a reader can work out from every count a role is shown, by linear programming.

The reader's unknowns are the wave's atoms (responses sharing clusters and profile, `reports.protection.Atom`),
each a number of responses of at least 0; the reader is assumed to know which atoms exist (a breakdown lists
only groups with responses, and managers know their members). Every published count is an equation over them.
For each withheld cell, HiGHS (scipy's `linprog`) finds the smallest and largest number of responses it could
hold consistently with all of them; the cell is protected when that range is at least k wide (or when two
feasible points already found differ by k on it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from reports.dimensions import Filters
from reports.protection import Atom, cell_members


@dataclass(frozen=True)
class Finding:
    cell: Filters
    n: int
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


def audit(
    atoms: Sequence[Atom], published: Iterable[Filters], k: int, known: Callable[[Atom], bool] | None = None
) -> list[Finding]:
    """The withheld cells whose number of responses a reader can pin down to a range narrower than k.

    `known` marks the atoms the reader knows the size of (a manager knows which of their members answered,
    and their profiles): those are fixed in every program, and a cell made only of them is no finding."""
    atoms = [atom for atom in atoms if atom.n > 0]
    if not atoms:
        return []
    members = cell_members(atoms)
    fixed = [index for index, atom in enumerate(atoms) if known is not None and known(atom)]
    shown = [cell for cell in set(published) if cell in members]
    withheld = [cell for cell in members if cell not in set(shown) and not set(members[cell]) <= set(fixed)]
    if not withheld:
        return []
    sizes = np.array([atom.n for atom in atoms], dtype=float)
    equations = [members[cell] for cell in shown] + [[index] for index in fixed]  # the reader knows those atoms
    return _pinned(sizes, equations, [(cell, members[cell]) for cell in withheld], k)


def audit_rounds(
    rounds: Sequence[Sequence[Atom]], publications: Sequence[tuple[int, Iterable[Filters]]], k: int
) -> list[Finding]:
    """What a reader learns from every publication of a wave that was reopened (`reports.protection.
    protect_rounds`): publication (r, cells) was made at the close after round r, from rounds 0 to r, and shows
    those cells. The unknowns are every round's atoms; a finding is a group of fewer than k responses in one
    round (its cell is given as ("round", r) and the filters) whose number the publications pin down to a range
    narrower than k, or a cell the last publication withholds that they pin down so."""
    atoms, round_of = [], []
    for index, round_atoms in enumerate(rounds):
        kept = [atom for atom in round_atoms if atom.n > 0]
        atoms += kept
        round_of += [index] * len(kept)
    members = cell_members(atoms)
    sizes = np.array([atom.n for atom in atoms], dtype=float)
    equations = [
        [index for index in members[cell] if round_of[index] <= last]
        for last, cells in publications
        for cell in set(cells)
        if cell in members
    ]
    equations = [indices for indices in equations if indices]
    targets: list[tuple[Filters, list[int]]] = []
    for number in range(len(rounds)):
        for cell, indices in members.items():
            inside = [index for index in indices if round_of[index] == number]
            if 0 < sizes[inside].sum() < k:
                targets.append(((("round", number), *cell), inside))
    last_shown = set(publications[-1][1]) if publications else set()
    targets += [(cell, indices) for cell, indices in members.items() if cell not in last_shown]
    return _pinned(sizes, equations, targets, k)


def _pinned(
    sizes: np.ndarray, equations: Sequence[Sequence[int]], targets: Sequence[tuple[Filters, Sequence[int]]], k: int
) -> list[Finding]:
    """The targets (cells, as the atoms they sum) whose sum the equations (sums of atoms known to the reader,
    with the true sizes) confine to a range narrower than k."""
    rows = [row for row, indices in enumerate(equations) for _ in indices]
    columns = [index for indices in equations for index in indices]
    count = len(equations)
    matrix = csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(count, len(sizes)))
    values = matrix @ sizes if count else None
    # Feasible points found so far (every one satisfies all published counts): two of them whose sums over a
    # cell differ by k already prove that cell's range at least k wide, so most cells need no program solved.
    # The true counts are one; every program solved adds its optimum.
    points = [sizes]
    findings = []
    for cell, indices in targets:
        indices = list(indices)
        sums = [float(point[indices].sum()) for point in points]
        if max(sums) - min(sums) >= k - 1e-6:
            continue
        objective = np.zeros(len(sizes))
        objective[indices] = 1.0
        bounds = []
        for sign in (1.0, -1.0):
            result = linprog(
                sign * objective,
                A_eq=matrix if count else None,
                b_eq=values,
                bounds=(0, None),
                method="highs",
            )
            assert result.status in (0, 3), result.message  # 3: unbounded above (nothing published holds it)
            if result.status == 0:
                points.append(result.x)
            bounds.append(sign * result.fun if result.status == 0 else float("inf"))
        low, high = bounds
        if high - low < k - 1e-6:
            findings.append(Finding(cell, int(sizes[indices].sum()), low, high))
    return findings
