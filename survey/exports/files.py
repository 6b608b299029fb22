"""CSV downloads for the staff pages: safe to open in a spreadsheet, sent as attachments with a fixed type."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence

import pandas as pd
from flask import Response

#: A cell starting with one of these is a formula to a spreadsheet (security requirement 11).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_NA = pd.NA


def spreadsheet_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with every cell made spreadsheet-safe, starting with a byte order mark (spreadsheet programs
    need it to read the file as UTF-8). Missing numbers (None, NaN, NA) become empty cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return "\ufeff" + buffer.getvalue()


def _csv_cell(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is _NA:
        return ""
    return spreadsheet_safe(value)


def attachment(body: bytes | str | Iterable[str] | Iterable[bytes], mimetype: str, filename: str) -> Response:
    """A download: a fixed type, a file name made by the server, never shown inline, never cached."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def csv_attachment(header: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> Response:
    """A CSV file (UTF-8 with a byte order mark, which spreadsheet programs need to read it as UTF-8)."""
    return attachment(csv_text(header, rows), "text/csv", filename)
