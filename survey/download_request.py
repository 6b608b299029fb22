"""What every download shares (report tables, chart images, the brief, the response export): its type, its file
name made here, its rate limit per user, and its record in the download audit log."""

from __future__ import annotations

from datetime import date

from flask import current_app, request
from flask_babel import gettext
from flask_login import current_user

from survey import clock
from survey.extensions import db, limiter
from survey.models import DownloadLog

MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "png": "image/png",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


def _export_limit() -> str:
    return current_app.config.get("EXPORT_RATE_LIMIT", "60 per minute;600 per hour")


def user_key() -> str:
    """Who a limit counts: the logged-in user (session or API token), else the client address."""
    return f"user:{current_user.id}" if current_user.is_authenticated else request.remote_addr or ""


def limited(view):
    """The download rate limit (EXPORT_RATE_LIMIT), counted per user."""
    return limiter.limit(
        _export_limit, key_func=user_key, error_message=lambda: gettext("Too many downloads. Please wait a minute.")
    )(view)


def audit(what: str, slug: str, filters: dict[str, list[str]] | None = None) -> None:
    """Record the download (who, what, when, which filters: the query's unless given) in the request's
    transaction, and commit."""
    db.session.add(
        DownloadLog(
            user_id=current_user.id if current_user.is_authenticated else None,
            downloaded_at=clock.now(),
            what=what,
            survey=slug,
            filters=request.args.to_dict(flat=False) if filters is None else filters,
        )
    )
    db.session.commit()


def filename(slug: str, what: str, extension: str) -> str:
    """A file name made here: the wave's slug (letters, digits, dashes), what it is and the date."""
    safe = "".join(ch for ch in slug if ch.isalnum() or ch in "-_")[:64] or "survey"
    return f"{safe}-{what}-{date.today().isoformat()}.{extension}"
