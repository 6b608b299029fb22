"""The current time, in one place, so that every write uses the same notion of "now" (UTC, naive)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    return now().date()
