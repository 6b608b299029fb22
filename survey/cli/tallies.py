"""`flask --app survey tallies rebuild [SLUG…]`: count the report tallies again from the stored responses."""

from __future__ import annotations

import click
from sqlalchemy import select

from survey.cache import report_cache
from survey.cli.surveys import wave_or_fail
from survey.extensions import db
from survey.models import Wave
from survey.operations.tallies import rebuild_tallies


@click.group("tallies")
def tallies_group() -> None:
    """The per-group answer counts that reports read."""


@tallies_group.command("rebuild")
@click.argument("slugs", nargs=-1)
def rebuild_command(slugs: tuple[str, ...]) -> None:
    """Count the tallies of the given waves (all waves when none is given) again from their responses.

    Each wave is rebuilt in a transaction of its own; reports read the old counts until it commits."""
    waves = [wave_or_fail(slug) for slug in slugs] or list(db.session.scalars(select(Wave).order_by(Wave.slug)))
    for wave in waves:
        counted = rebuild_tallies(db.session, wave)
        db.session.commit()
        click.echo(f"{wave.slug}\t{counted} responses counted")
    # The rows were replaced by bulk statements, which the cache's session hooks do not see.
    report_cache().invalidate()
