"""Reminders on the days a cluster set for a wave, sent by `flask reminders send` (run by cron): each date once.

The date's `sent_at` makes a second run send nothing again; members e-mailed since the date began are skipped
too, so that a run cut short, a reminder sent by hand that day or a member of two clusters gets one reminder.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select

from survey.extensions import db
from survey.mail import Mailer
from survey.mail_texts import Composer
from survey.models import Cluster, MailKind, ReminderDate, Wave
from survey.operations.invitations import SendResult, recipients_for, send_links
from survey.queries.rosters import MemberStatus, wave_roster


def due_dates(cluster: Cluster, wave: Wave, today: date, lock: bool = False) -> list[ReminderDate]:
    """The cluster's dates for the wave that have come and are not sent. With `lock`, the rows are locked
    (PostgreSQL) and rows another run holds are skipped, so that two runs at once do not both send."""
    statement = select(ReminderDate).where(
        ReminderDate.cluster_id == cluster.id,
        ReminderDate.wave_id == wave.id,
        ReminderDate.sent_at.is_(None),
        ReminderDate.send_on <= today,
    )
    if lock:
        statement = statement.with_for_update(skip_locked=True)
    return list(db.session.scalars(statement))


def reminder_recipients(cluster: Cluster, wave: Wave, dates: list[ReminderDate]) -> list[MemberStatus]:
    """Whom the reminder goes to: the members a reminder from the wave page would reach (e-mailed before, with
    a working link, not submitted), less those e-mailed since the latest of the dates began."""
    since = datetime.combine(max(reminder.send_on for reminder in dates), time.min)
    members = recipients_for(MailKind.REMINDER, wave_roster(cluster, wave).members)
    return [member for member in members if member.last_mailed_at is None or member.last_mailed_at < since]


def send_scheduled_reminder(
    cluster: Cluster, wave: Wave, dates: list[ReminderDate], mailer: Mailer, now: datetime
) -> SendResult:
    """Send the cluster's reminder for the wave (its own text, or the default) and mark the dates sent: dates
    missed earlier go out as this one reminder, not one each."""
    members = reminder_recipients(cluster, wave, dates)
    result = send_links(wave, members, MailKind.REMINDER, Composer(cluster, wave, MailKind.REMINDER), mailer, now)
    for reminder in dates:
        reminder.sent_at = now
    db.session.flush()
    return result
