"""What admins set up: clusters, and survey waves with their questionnaire and state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from survey.extensions import db
from survey.languages import language_name, offered, untranslated
from survey.models import Cluster, Wave
from survey.operations.answering_time import measure_wave
from survey.operations.setup import create_wave, load_questionnaire
from survey.queries.lookups import by_slug
from survey.questionnaire_texts import texts


class PlatformError(ValueError):
    """A change an admin asked for that cannot be made; the message is for them."""


@dataclass(frozen=True)
class ClusterDetails:
    slug: str
    name: str
    country: str
    nuts2: str | None
    ecosystem: str
    contact_email: str | None = None
    privacy_url: str | None = None


def save_cluster(details: ClusterDetails, cluster: Cluster | None = None) -> Cluster:
    """Create a cluster, or change one; slugs are unique."""
    taken = by_slug(Cluster, details.slug)
    if taken is not None and taken is not cluster:
        raise PlatformError(_("Another cluster already has the short name %(slug)s.", slug=details.slug))
    if cluster is None:
        cluster = Cluster(slug=details.slug, name=details.name, country=details.country, ecosystem=details.ecosystem)
        db.session.add(cluster)
    cluster.slug = details.slug
    cluster.name = details.name
    cluster.country = details.country
    cluster.nuts2 = details.nuts2
    cluster.ecosystem = details.ecosystem
    cluster.contact_email = details.contact_email
    cluster.privacy_url = details.privacy_url
    db.session.flush()
    return cluster


def create_wave_from(slug: str, title: str, source: Wave | None, opens_on: date | None, closes_on: date | None) -> Wave:
    """A draft wave asking the same questionnaire version as `source`, or the shipped default when None."""
    if by_slug(Wave, slug) is not None:
        raise PlatformError(_("Another survey already has the short name %(slug)s.", slug=slug))
    questionnaire = source.questionnaire if source is not None else load_questionnaire()
    return create_wave(slug, title, questionnaire, opens_on, closes_on)


def open_wave(wave: Wave, now: datetime) -> None:
    """Open a draft wave, once every text of its questionnaire is translated in every language offered."""
    missing = untranslated(texts(wave.questionnaire.document), offered())
    if missing:
        raise PlatformError(
            _(
                "The questionnaire has texts without a translation in %(languages)s. Translate them (see "
                "docs/translations.md) before opening the survey, so that every respondent reads it whole.",
                languages=", ".join(f"{language_name(code)} ({len(lacking)})" for code, lacking in missing.items()),
            )
        )
    wave.open(now)
    db.session.flush()


def close_wave(wave: Wave, now: datetime) -> None:
    """Close a wave: its invitation links stop working. The wave's row is locked first, so that the close waits
    for submissions in flight and those after it see it closed (`responses.check_still_open`)."""
    db.session.execute(select(Wave.id).where(Wave.id == wave.id).with_for_update())
    db.session.refresh(wave)
    wave.close(now)
    measure_wave(wave)
    db.session.flush()


def reopen_wave(wave: Wave, now: datetime, closes_on: date) -> None:
    """Reopen a closed wave for late answers until `closes_on` (`Wave.reopen`); locked like a close."""
    db.session.execute(select(Wave.id).where(Wave.id == wave.id).with_for_update())
    db.session.refresh(wave)
    wave.reopen(now, closes_on)
    db.session.flush()
