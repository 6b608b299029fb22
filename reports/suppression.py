"""Small-cell and complementary suppression (security requirements 14 and 15).

A *cell* is the set of responses matching some filters in one wave (for example "micro organisations in
the Basque digital cluster, 2021"). A *breakdown* splits a cell into groups along one dimension; the cell
itself is the breakdown's total, which the API and the pages also show (as the query without `by`).

Rules, applied per wave:

1. Primary: a group with fewer than k responses is withheld.
2. Complementary: while the withheld groups of a breakdown hold fewer than k responses between them, the
   smallest group still shown is withheld too. With exactly one group withheld this is the classic rule
   ("withhold the next-smallest"), so total minus shown groups never gives a withheld group; it also stops
   two tiny groups from being recovered as a tiny sum.
3. A breakdown of a withheld cell is withheld entirely (otherwise its groups would add up to the cell).
4. A cell chosen by filters is withheld when it is withheld as a group of the breakdown it belongs to: the
   page filtered to "size = large" shows exactly what the breakdown by size shows for large. Without this,
   a group withheld by rule 2 could simply be asked for with a filter.

Clusters overlap (an organisation in two clusters counts in both), so the groups of the cluster breakdown do
not add up to the total. The rules treat them as if they did: the difference "total minus shown clusters"
is then the withheld clusters' sum *minus* the double counts, which no output reveals; a withheld cluster
is at least as hard to recover as a withheld group of a true partition. See docs/reports.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from reports.context import Key
from reports.dimensions import Filters

#: (filters, by) -> responses per wave and group: columns wave_id, group, n (groups with n > 0 only).
SizesReader = Callable[[Filters, str | None], pd.DataFrame]


def withhold(sizes: Sequence[int], k: int, total_withheld: bool = False) -> list[bool]:
    """Which groups of one breakdown to withhold, given each group's number of responses."""
    if total_withheld:
        return [True] * len(sizes)
    withheld = [n < k for n in sizes]
    # Smallest first; among equals, the first listed, so that the choice is repeatable.
    by_size = sorted(range(len(sizes)), key=lambda i: (sizes[i], i))
    while any(withheld) and not all(withheld) and sum(n for n, w in zip(sizes, withheld, strict=True) if w) < k:
        smallest_shown = next(i for i in by_size if not withheld[i])
        withheld[smallest_shown] = True
    return withheld


class Disclosure:
    """Decides, for one set of waves, which cells and groups are withheld, consistently across breakdowns.

    `sizes` reads responses per group (from the tally); results are cached, so one report asks the database
    once per distinct (filters, breakdown).
    """

    def __init__(self, sizes: SizesReader, wave_ids: Sequence[int], k: int):
        self._read = sizes
        self.wave_ids = tuple(wave_ids)
        self.k = k
        self._sizes: dict[tuple[Filters, str | None], pd.DataFrame] = {}
        self._cells: dict[Filters, dict[int, bool]] = {}
        self._breakdowns: dict[tuple[Filters, str], pd.DataFrame] = {}

    def prime(self, filters: Filters, by: str | None, sizes: pd.DataFrame) -> None:
        """Hand over group sizes that a caller has already read, to save a query."""
        self._sizes[(filters, by)] = sizes[["wave_id", "group", "n"]].reset_index(drop=True)

    def sizes(self, filters: Filters, by: str | None) -> pd.DataFrame:
        key = (filters, by)
        if key not in self._sizes:
            self._sizes[key] = self._read(filters, by)
        return self._sizes[key]

    def cell_withheld(self, filters: Filters) -> dict[int, bool]:
        """Per wave: is the cell these filters choose withheld (rules 1 and 4, recursively)?"""
        if filters in self._cells:
            return self._cells[filters]
        totals = self._totals(filters)
        withheld = {wave: totals.get(wave, 0) < self.k for wave in self.wave_ids}
        for index, (dimension, key) in enumerate(filters):
            rest = filters[:index] + filters[index + 1 :]
            siblings = self.breakdown(rest, dimension)
            for wave in self.wave_ids:
                mine = siblings[(siblings["wave_id"] == wave) & (siblings["group"] == key)]
                if mine.empty or bool(mine["withheld"].iloc[0]):
                    withheld[wave] = True
        self._cells[filters] = withheld
        return withheld

    def breakdown(self, filters: Filters, by: str) -> pd.DataFrame:
        """Groups of the breakdown of the cell `filters` along `by`: wave_id, group, n, withheld.

        For `by="wave"` each wave is a group of its own and no total over waves is ever shown, so a wave's
        group is simply its cell.
        """
        key = (filters, by)
        if key in self._breakdowns:
            return self._breakdowns[key]
        cell = self.cell_withheld(filters)
        # Plain lists, one breakdown at a time: pandas' filtering, sorting and concatenating per wave took a
        # tenth of a report page's time.
        rows: list[tuple[int, Key, int, bool]] = []
        if by == "wave":
            totals = self._totals(filters)
            rows = [(wave, wave, totals[wave], cell[wave]) for wave in self.wave_ids if totals.get(wave, 0) > 0]
        else:
            sizes = self.sizes(filters, by)
            per_wave: dict[int, list[tuple[Key, int]]] = {}
            for wave, group, n in zip(*(sizes[name].tolist() for name in ("wave_id", "group", "n")), strict=True):
                per_wave.setdefault(wave, []).append((group, n))
            for wave in self.wave_ids:
                # A repeatable order for ties: by the group's key.
                groups = sorted(per_wave.get(wave, []), key=lambda pair: str(pair[0]))
                withheld = withhold([n for _, n in groups], self.k, cell[wave])
                rows += [(wave, group, n, hidden) for (group, n), hidden in zip(groups, withheld, strict=True)]
        frame = pd.DataFrame(rows, columns=["wave_id", "group", "n", "withheld"])
        self._breakdowns[key] = frame
        return frame

    def _totals(self, filters: Filters) -> dict[int, int]:
        """Responses per wave in the cell these filters choose."""
        totals: dict[int, int] = {}
        sizes = self.sizes(filters, None)
        for wave, n in zip(sizes["wave_id"].tolist(), sizes["n"].tolist(), strict=True):
            totals[wave] = totals.get(wave, 0) + int(n)
        return totals

    def group_withheld(self, filters: Filters, by: str, wave: int, group: Key) -> bool:
        frame = self.breakdown(filters, by)
        mine = frame[(frame["wave_id"] == wave) & (frame["group"] == group)]
        return mine.empty or bool(mine["withheld"].iloc[0])
