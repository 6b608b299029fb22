"""Mail for cron and the bounce mailbox: `flask --app survey reminders send` and `mail bounce` (docs/mail.md).

Output names clusters, waves and counts, never an address or a link: cron mails it to the operator.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from survey import clock
from survey.cli.surveys import wave_or_fail
from survey.extensions import db
from survey.mail import Mailer, MailError, mail_configured
from survey.operations.bounces import mark_bounced, read_bounces
from survey.operations.reminders import due_dates, reminder_recipients, send_scheduled_reminder
from survey.queries.reminders import due_reminders


@click.group("reminders")
def reminders_group() -> None:
    """Reminder e-mails on the days cluster managers set."""


@reminders_group.command("send")
@click.option("--wave", "wave_slug", default=None, metavar="SLUG", help="Only this survey wave.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send nothing and change nothing.")
def send_reminders_command(wave_slug: str | None, dry_run: bool) -> None:
    """Send the reminders that are due: for each cluster with a reminder date that has come, in a wave open for
    answers, to its members who were e-mailed, have a working link and have not submitted.

    Each date is sent once, so the command is safe to run every hour. It prints one line per cluster and wave
    reminded, and nothing when nothing is due; it fails (exit status 1) when the mail server cannot be
    reached, and what was not sent goes out at the next run.
    """
    today, now = clock.today(), clock.now()
    due = due_reminders(today, wave_or_fail(wave_slug) if wave_slug else None)
    if dry_run:
        for cluster, wave in due:
            members = reminder_recipients(cluster, wave, due_dates(cluster, wave, today))
            addresses = sum(member.contacts for member in members)
            click.echo(f"{cluster.slug}\t{wave.slug}\twould remind {len(members)} members at {addresses} addresses")
        if not due:
            click.echo("No reminders are due.")
        db.session.rollback()
        return
    if not due:
        return
    if not mail_configured():
        raise click.ClickException("MAIL_SERVER is not set: reminders are due but cannot be sent.")
    config = current_app.config
    try:
        with Mailer() as mailer:
            for cluster, wave in due:
                dates = due_dates(cluster, wave, today, lock=True)
                if not dates:  # another run took them meanwhile
                    db.session.rollback()
                    continue
                result = send_scheduled_reminder(cluster, wave, dates, mailer, now)
                db.session.commit()
                click.echo(
                    f"{cluster.slug}\t{wave.slug}\treminded {len(result.sent)} members\t"
                    f"{len(result.failed)} could not be reached"
                )
    except MailError as exc:
        db.session.rollback()
        raise click.ClickException(
            f"the mail server {config['MAIL_SERVER']}:{config['MAIL_PORT']} could not be reached ({exc.reply}); "
            "the reminders not sent go out at the next run."
        ) from exc


@click.group("mail")
def mail_group() -> None:
    """E-mail that comes back."""


@mail_group.command("bounce")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def bounce_command(files: tuple[str, ...]) -> None:
    """Read bounces (delivery status notifications, RFC 3464), from the FILES or else from standard input, and
    mark the contact addresses they name as bouncing: the cluster's managers see it on the member's page.

    Messages that are not delivery status notifications (out-of-office replies) are skipped, and so are
    addresses no contact has; neither is an error, so that a mail server piping its bounce mailbox here does
    not bounce them again.
    """
    messages = [Path(path).read_bytes() for path in files] if files else [sys.stdin.buffer.read()]
    now = clock.now()
    marked = skipped = 0
    for data in messages:
        bounces = read_bounces(data)
        if bounces is None:
            skipped += 1
            continue
        marked += len(mark_bounced(bounces, now))
    db.session.commit()
    if skipped:
        click.echo(f"{skipped} messages were not delivery status notifications: skipped.", err=True)
    click.echo(f"{marked} contact addresses marked as bouncing.")
