"""Rows by slug, and the 404 a page gives for a wave or cluster it may not show."""

from __future__ import annotations

from typing import TypeVar

from flask import abort
from flask_babel import gettext
from sqlalchemy import select

from survey.extensions import db
from survey.models import Cluster, Wave

#: Models looked up by the slug in their URLs.
Sluggable = TypeVar("Sluggable", Cluster, Wave)

#: Slugs are at most this long (the column's length): a longer one names nothing.
MAX_SLUG = 64


def by_slug(model: type[Sluggable], slug: str) -> Sluggable | None:
    """The row of `model` with this slug, or None.

    A slug no row can have (empty, too long, or with a NUL byte, which PostgreSQL refuses in a query) is simply
    unknown, so every caller gets a 404 or a usage message rather than a database error."""
    if not slug or len(slug) > MAX_SLUG or "\x00" in slug:
        return None
    return db.session.scalars(select(model).filter_by(slug=slug)).one_or_none()


def wave_or_404(slug: str) -> Wave:
    """The wave with this slug if readers may see it (never a draft: drafts are the admins' to prepare)."""
    wave = by_slug(Wave, slug)
    if wave is None or not wave.visible_to_readers:
        abort(404, gettext("There is no survey wave at this address."))
    return wave
