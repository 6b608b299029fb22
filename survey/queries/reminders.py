"""Reminder dates: those a cluster set for a wave, and those due now (for `flask reminders send`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from survey.extensions import db
from survey.models import Cluster, ReminderDate, Wave, WaveState


def reminder_dates(cluster: Cluster, wave: Wave) -> list[ReminderDate]:
    return list(
        db.session.scalars(
            select(ReminderDate).filter_by(cluster_id=cluster.id, wave_id=wave.id).order_by(ReminderDate.send_on)
        )
    )


def due_reminders(today: date, wave: Wave | None = None) -> list[tuple[Cluster, Wave]]:
    """The clusters and waves with a reminder date that has come and not been sent, in waves that take answers
    today. A date missed (the command did not run that day) is still due: the reminder goes out late, once."""
    statement = (
        select(Cluster, Wave)
        .join(ReminderDate, ReminderDate.cluster_id == Cluster.id)
        .join(Wave, Wave.id == ReminderDate.wave_id)
        .where(ReminderDate.sent_at.is_(None), ReminderDate.send_on <= today, Wave.state == WaveState.OPEN)
        .distinct()
        .order_by(Wave.slug, Cluster.slug)
    )
    if wave is not None:
        statement = statement.where(Wave.id == wave.id)
    return [(cluster, wave) for cluster, wave in db.session.execute(statement) if wave.accepts_answers(today)]
