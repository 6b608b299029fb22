"""CSV downloads for the staff pages: safe to open in a spreadsheet, sent as attachments with a fixed type."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response

#: A cell starting with one of these is a formula to a spreadsheet (security requirement 11).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_attachment(header: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> Response:
    """A CSV file (UTF-8 with a byte order mark, which spreadsheet programs need to read it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_safe(value) for value in row])
    response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
