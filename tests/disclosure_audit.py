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
    rows, columns = [], []
    for row, cell in enumerate(shown):
        rows += [row] * len(members[cell])
        columns += members[cell]
    for row, index in enumerate(fixed, start=len(shown)):  # what the reader knows: one equation per atom
        rows.append(row)
        columns.append(index)
    count = len(shown) + len(fixed)
    equations = csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(count, len(atoms)))
    values = equations @ sizes if count else None
    # Feasible points found so far (every one satisfies all published counts): two of them whose sums over a
    # cell differ by k already prove that cell's range at least k wide, so most cells need no program solved.
    # The true counts are one; every program solved adds its optimum.
    points = [sizes]
    findings = []
    for cell in withheld:
        indices = members[cell]
        sums = [float(point[indices].sum()) for point in points]
        if max(sums) - min(sums) >= k - 1e-6:
            continue
        objective = np.zeros(len(atoms))
        objective[indices] = 1.0
        bounds = []
        for sign in (1.0, -1.0):
            result = linprog(
                sign * objective,
                A_eq=equations if count else None,
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
