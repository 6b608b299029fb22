"""Commands for running surveys: `flask --app survey demo | invitations create | surveys list|open|close|reopen`."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from sqlalchemy import func, select

from survey import clock
from survey.extensions import db
from survey.models import Cluster, Invitation, Organisation, Response, Wave, WaveState, WaveStateError
from survey.operations.invitations import invitation_link
from survey.operations.platform import PlatformError, close_wave, open_wave, reopen_wave
from survey.operations.protections import publish_results
from survey.queries.lookups import by_slug


def wave_or_fail(slug: str) -> Wave:
    wave = by_slug(Wave, slug)
    if wave is None:
        known = ", ".join(db.session.scalars(select(Wave.slug).order_by(Wave.slug))) or "none yet"
        raise click.UsageError(f"no survey wave {slug!r} (known: {known})")
    return wave


@click.command("demo")
@click.option(
    "--responses",
    default=1200,
    show_default=True,
    type=click.IntRange(0, 2_000_000),
    help="Synthetic responses to the open demo wave.",
)
@click.option("--seed", default=1, show_default=True, type=int, help="Random seed, for repeatable data.")
def demo_command(responses: int, seed: int) -> None:
    """Load the default questionnaire, demo waves, clusters and synthetic responses into an empty database.

    When the demo is already loaded, leave the data alone and print a fresh link for the demo organisation.
    """
    from survey.cli.demo import DEMO_ORGANISATION, DEMO_WAVE, ensure_demo_users, load_demo
    from survey.operations.setup import invite_organisation

    now = clock.now()
    if db.session.scalar(select(func.count()).select_from(Wave)):
        wave = by_slug(Wave, DEMO_WAVE)
        organisation = db.session.scalars(select(Organisation).filter_by(name=DEMO_ORGANISATION)).one_or_none()
        if wave is None or organisation is None:
            raise click.ClickException("the database already holds surveys; the demo loads only into an empty one")
        _, token = invite_organisation(wave, organisation, now)
        db.session.commit()
        click.echo("Demo data already loaded; the demo organisation's link:", err=True)
    else:
        result = load_demo(responses, seed, now)
        db.session.commit()
        token = result.demo_link_token
        click.echo(f"Loaded demo survey {DEMO_WAVE} with {responses} synthetic responses.", err=True)
    logins = ensure_demo_users(current_app.config["APP_ENV"])
    db.session.commit()
    for email, role, password in logins:
        click.echo(f"Demo log-in as {role}: {email}  password: {password}")
    click.echo(f"Demo invitation link: {invitation_link(token)}")


@click.group("invitations")
def invitations_group() -> None:
    """Invitation links for member organisations."""


@invitations_group.command("create")
@click.option("--survey", "survey_slug", required=True, help="Slug of the survey wave.")
@click.option("--organisation", "organisation_name", required=True, help="Organisation name (created if new).")
@click.option("--cluster", "cluster_slug", required=True, help="Slug of a cluster the organisation belongs to.")
@click.option("--email", default=None, help="A contact person's e-mail address (kept apart from answers).")
@click.option("--new-link", is_flag=True, help="Retire the organisation's current link and print a new one.")
def create_invitation_command(
    survey_slug: str, organisation_name: str, cluster_slug: str, email: str | None, new_link: bool
) -> None:
    """Create what is missing and print the invitation link on one line.

    Running this again for the same organisation and wave prints the same link, which keeps working; with
    --new-link it prints a new one and retires the old (which then says it was replaced). Answers already given
    are kept.
    """
    from email_validator import EmailNotValidError, validate_email

    from survey.operations.setup import add_contact, find_or_create_organisation, invite_organisation

    wave = wave_or_fail(survey_slug)
    cluster = by_slug(Cluster, cluster_slug)
    if cluster is None:
        raise click.UsageError(f"no cluster {cluster_slug!r}")
    name = organisation_name.strip()
    if not name or len(name) > 200:
        raise click.UsageError("the organisation name must have 1 to 200 characters")
    organisation = find_or_create_organisation(name, cluster.country, cluster)
    if email:
        try:
            address = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise click.UsageError(f"--email: {exc}") from exc
        add_contact(organisation, address)
    existed = db.session.scalar(
        select(func.count()).select_from(Invitation).filter_by(wave_id=wave.id, organisation_id=organisation.id)
    )
    _, token = invite_organisation(wave, organisation, clock.now(), new_link=new_link)
    db.session.commit()
    if existed and new_link:
        click.echo("This organisation was already invited: its earlier link now says it was replaced.", err=True)
    click.echo(invitation_link(token))


@click.group("surveys")
def surveys_group() -> None:
    """Survey waves."""


@surveys_group.command("list")
def list_surveys_command() -> None:
    """One wave per line: slug, state, dates, responses, title."""
    counts = dict(db.session.execute(select(Response.wave_id, func.count()).group_by(Response.wave_id)).all())
    for wave in db.session.scalars(select(Wave).order_by(Wave.slug)):
        dates = f"{wave.opens_on or '-'}..{wave.closes_on or '-'}"
        click.echo(f"{wave.slug}\t{wave.state}\t{dates}\t{counts.get(wave.id, 0)} responses\t{wave.title}")


def _transition(slug: str, action) -> None:
    wave = wave_or_fail(slug)
    try:
        action(wave, clock.now())
    except (WaveStateError, PlatformError) as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    if wave.state is WaveState.CLOSED:
        publish_results(wave)
    click.echo(f"{wave.slug}\t{wave.state}")


@surveys_group.command("open")
@click.argument("slug")
def open_survey_command(slug: str) -> None:
    """Open a draft wave for answers."""
    _transition(slug, open_wave)


@surveys_group.command("close")
@click.argument("slug")
def close_survey_command(slug: str) -> None:
    """Close an open wave: its invitation links stop working."""
    _transition(slug, close_wave)


@surveys_group.command("reopen")
@click.argument("slug")
@click.option(
    "--closes-on",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The new last day for answers (YYYY-MM-DD).",
)
def reopen_survey_command(slug: str, closes_on: datetime) -> None:
    """Reopen a closed wave for organisations that have not answered; its results are withdrawn until it closes
    again, and the answers counted at the close stay as they were."""
    _transition(slug, lambda wave, now: reopen_wave(wave, now, closes_on.date()))
