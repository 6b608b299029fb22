"""A record of each invitation or reminder e-mail sent, so that managers see who was mailed and when.

The addresses themselves are not copied here: they stay in the contact table, where erasure can find them.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import db


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
