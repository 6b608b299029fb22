"""Answer counts per group, kept current inside each submission's transaction.

Reports read these small tables with GROUP BY instead of scanning responses, so a chart over a million
responses costs the same as one over a thousand. See docs/architecture.md for the design.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import db

#: The sets of dimensions counts are kept for. A query is answered from the smallest grain that holds every
#: dimension it filters or groups on; the last two grains hold everything, with and without clusters. The names
#: are those of `reports.dimensions.DIMENSIONS`, whose order is the order of the key columns.
GRAINS: tuple[tuple[str, ...], ...] = (
    (),
    ("cluster",),
    ("size",),
    ("type",),
    ("country",),
    ("ecosystem",),
    ("size", "type", "country", "ecosystem"),
    ("cluster", "size", "type", "country", "ecosystem"),
)

#: Item code under which the number of responses in a group is counted.
RESPONSES_ITEM = "_responses"
#: Stands for "all" in a key column whose dimension is not part of the grain.
ALL = ""
#: cluster_id of keys outside the cluster grains: a response counts once there, whatever its clusters.
ALL_CLUSTERS = 0


def grain_name(dims: tuple[str, ...]) -> str:
    return "+".join(dims) or "total"


class Tally(db.Model):
    """How many responses in one group gave one answer to one item."""

    __tablename__ = "tally"

    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), primary_key=True)
    #: Which dimensions this row is broken down by, e.g. "cluster" or "total" (see GRAINS).
    grain: Mapped[str] = mapped_column(String(60), primary_key=True)
    #: A cluster id, or 0 in grains without the cluster dimension (not a foreign key for that reason).
    cluster_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size_class: Mapped[str] = mapped_column(String(20), primary_key=True)
    org_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    ecosystem: Mapped[str] = mapped_column(String(40), primary_key=True)
    item: Mapped[str] = mapped_column(String(64), primary_key=True)
    answer: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
