"""Which cells and groups a report withholds (security requirements 14 and 15), for one set of waves.

A *cell* is the set of responses matching some filters in one wave (for example "micro organisations in
the Basque digital cluster, 2021"). A *breakdown* splits a cell into groups along one dimension; each group
is itself a cell (the filters plus the group's value), and the cell is the breakdown's total.

Whether a cell is published is decided once per wave, for every table at once, by the wave's protected
partition (`reports.protection`): a group is shown in a breakdown exactly when the same cell is shown when
asked for with filters, in every other breakdown it belongs to, on every surface and for every role. Group
sizes themselves come from the tally.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from reports.context import Key
from reports.dimensions import Filters
from reports.protection import Protection

#: (filters, by) -> responses per wave and group: columns wave_id, group, n (groups with n > 0 only).
SizesReader = Callable[[Filters, str | None], pd.DataFrame]
#: wave id -> the wave's protection.
ProtectionReader = Callable[[int], Protection]


class Disclosure:
    """Decides, for one set of waves, which cells and groups are withheld, consistently across breakdowns.

    `sizes` reads responses per group (from the tally); results are cached, so one report asks the database
    once per distinct (filters, breakdown). `protection` gives each wave's published cells.
    """

    def __init__(self, sizes: SizesReader, protection: ProtectionReader, wave_ids: Sequence[int], k: int):
        self._read = sizes
        self._protection_of = protection
        self._protections: dict[int, Protection] = {}
        self.wave_ids = tuple(wave_ids)
        self.k = k
        self._sizes: dict[tuple[Filters, str | None], pd.DataFrame] = {}
        self._breakdowns: dict[tuple[Filters, str], pd.DataFrame] = {}

    def protection(self, wave: int) -> Protection:
        if wave not in self._protections:
            self._protections[wave] = self._protection_of(wave)
        return self._protections[wave]

    def prime(self, filters: Filters, by: str | None, sizes: pd.DataFrame) -> None:
        """Hand over group sizes that a caller has already read, to save a query."""
        self._sizes[(filters, by)] = sizes[["wave_id", "group", "n"]].reset_index(drop=True)

    def sizes(self, filters: Filters, by: str | None) -> pd.DataFrame:
        key = (filters, by)
        if key not in self._sizes:
            self._sizes[key] = self._read(filters, by)
        return self._sizes[key]

    def cell_withheld(self, filters: Filters) -> dict[int, bool]:
        """Per wave: is the cell these filters choose withheld?"""
        cell = tuple(sorted(filters))
        return {wave: self.protection(wave).withheld(cell) for wave in self.wave_ids}

    def breakdown(self, filters: Filters, by: str) -> pd.DataFrame:
        """Groups of the breakdown of the cell `filters` along `by`: wave_id, group, n, withheld.

        For `by="wave"` each wave is a group of its own and no total over waves is ever shown, so a wave's
        group is simply its cell.
        """
        key = (filters, by)
        if key in self._breakdowns:
            return self._breakdowns[key]
        # Plain lists, one breakdown at a time: pandas' filtering and concatenating per wave took a tenth of a
        # report page's time.
        rows: list[tuple[int, Key, int, bool]] = []
        if by == "wave":
            totals = self._totals(filters)
            cell = self.cell_withheld(filters)
            rows = [(wave, wave, totals[wave], cell[wave]) for wave in self.wave_ids if totals.get(wave, 0) > 0]
        else:
            sizes = self.sizes(filters, by)
            for wave, group, n in zip(*(sizes[name].tolist() for name in ("wave_id", "group", "n")), strict=True):
                protection = self.protection(wave)
                rows.append((wave, group, n, protection.withheld(tuple(sorted((*filters, (by, group)))))))
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

    def answers_withheld(self, filters: Filters, by: str | None, wave: int, group: Key, item: str) -> bool:
        """Are the answers to `item` of this group (or, without `by`, of the cell) withheld?"""
        cell = filters if by in (None, "wave") else (*filters, (by, group))
        return self.protection(wave).answers_withheld(tuple(sorted(cell)), item)
