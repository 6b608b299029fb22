"""Invitation and reminder e-mails: a record of each one sent (so that managers see who was mailed and when),
the text a cluster's manager wrote for a wave, and the days on which reminders go out by themselves.

The addresses themselves are not copied here: they stay in the contact table, where erasure can find them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db

if TYPE_CHECKING:
    from survey.models.users import User


class MailKind(enum.StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"


class Mailing(db.Model):
    __tablename__ = "mailing"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MailKind] = mapped_column(
        Enum(MailKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    sent_at: Mapped[datetime]
    #: How many contact persons the link was sent to.
    recipients: Mapped[int]


class MailText(db.Model):
    """The subject and text a cluster sends for a wave, in place of the default (`survey.mail_texts`).

    Both hold placeholders such as {organisation} and {link}, filled in for each recipient; no row means the
    default text."""

    __tablename__ = "mail_text"
    __table_args__ = (UniqueConstraint("cluster_id", "wave_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id", ondelete="CASCADE"))
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MailKind] = mapped_column(
        Enum(MailKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    #: Who last saved it (none once that account is deleted, or when saved from the command line).
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    updated_by: Mapped[User | None] = relationship()


class ReminderDate(db.Model):
    """A day on which a cluster's members who have not answered a wave are reminded by e-mail, by the
    `reminders send` command that cron runs (docs/mail.md)."""

    __tablename__ = "reminder_date"
    __table_args__ = (UniqueConstraint("cluster_id", "wave_id", "send_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id", ondelete="CASCADE"))
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    #: The day (UTC) from which the reminder is due: the first run of the command on or after it sends it.
    send_on: Mapped[date] = mapped_column(Date)
    #: When the command sent it; a date already sent is never sent again.
    sent_at: Mapped[datetime | None]
