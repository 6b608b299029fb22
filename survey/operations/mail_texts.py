"""A cluster's own e-mail texts and reminder dates for a wave: saving them, going back to the default."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from survey.extensions import db
from survey.mail_texts import saved_text
from survey.models import Cluster, MailKind, MailText, ReminderDate, User, Wave, WaveState
from survey.operations.invitations import InvitationError


def save_mail_text(
    cluster: Cluster, wave: Wave, kind: MailKind, subject: str, body: str, user: User | None, now: datetime
) -> MailText:
    """Store the cluster's subject and text for the wave (checked by `forms.mailings.MailTextForm`)."""
    text = saved_text(cluster, wave, kind)
    if text is None:
        text = MailText(cluster_id=cluster.id, wave_id=wave.id, kind=kind)
        db.session.add(text)
    text.subject, text.body = subject, body.replace("\r\n", "\n")
    text.updated_at, text.updated_by_id = now, user.id if user is not None else None
    db.session.flush()
    return text


def reset_mail_text(cluster: Cluster, wave: Wave, kind: MailKind) -> bool:
    """Go back to the default text; False when the cluster had not written its own."""
    text = saved_text(cluster, wave, kind)
    if text is None:
        return False
    db.session.delete(text)
    db.session.flush()
    return True


def check_wave_takes_reminder_dates(wave: Wave) -> None:
    if wave.state is not WaveState.OPEN:
        raise InvitationError(
            _("Reminder dates can be set only while the survey is open; this one is %(state)s.", state=wave.state.label)
        )


def add_reminder_date(cluster: Cluster, wave: Wave, send_on: date) -> ReminderDate:
    """Have reminders go out on `send_on` (checked by `forms.mailings.ReminderDateForm`); a day already set is
    left as it is."""
    check_wave_takes_reminder_dates(wave)
    reminder = db.session.scalars(
        select(ReminderDate).filter_by(cluster_id=cluster.id, wave_id=wave.id, send_on=send_on)
    ).one_or_none()
    if reminder is None:
        reminder = ReminderDate(cluster_id=cluster.id, wave_id=wave.id, send_on=send_on)
        db.session.add(reminder)
        db.session.flush()
    return reminder


def remove_reminder_date(reminder: ReminderDate) -> None:
    db.session.delete(reminder)
    db.session.flush()
