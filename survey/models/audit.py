"""The download audit log: who took which export, when, and with which filters (security requirement 13)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import JSONDocument, db


class DownloadLog(db.Model):
    """One download of a report table, chart, brief, pack or the full response export."""

    __tablename__ = "download_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who downloaded it; kept as NULL (the row stays) when the account is deleted.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    downloaded_at: Mapped[datetime] = mapped_column(index=True)
    #: What was downloaded: "adoption.csv", "chart:heatmap.png", "brief.pdf", "responses.csv" …
    what: Mapped[str] = mapped_column(String(60))
    #: The survey wave's slug.
    survey: Mapped[str] = mapped_column(String(100))
    #: The query parameters as sent (already checked against the allow-list), by name.
    filters: Mapped[dict[str, Any]] = mapped_column(JSONDocument)

    def __repr__(self) -> str:
        return f"<DownloadLog {self.id} {self.what}>"
