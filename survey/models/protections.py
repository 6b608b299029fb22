"""A closed wave's protected partition (`reports.protection`), made once when it closes and read by every report.

Making it reads every response of the wave (about a minute at 500,000); reading it back is one row. The
fingerprint says what it was made from (when the wave closed, its number of responses, k and the rule's
version), so a row that no longer fits (a wave reopened and closed again, another MIN_CELL_SIZE) is never used.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import db


class WaveProtection(db.Model):
    __tablename__ = "wave_protection"

    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(200))
    #: `reports.protection.encode` of the partition's published cells.
    data: Mapped[bytes] = mapped_column(LargeBinary)
    made_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
