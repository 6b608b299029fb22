"""Invitations: the secret link through which an organisation answers a wave, without an account."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.clusters import Organisation
from survey.models.waves import Wave


def hash_token(token: str) -> str:
    """The stored form of a token. A plain SHA-256 suffices: tokens carry 192 random bits, so no salt or
    slow hash is needed, and an exact-match index lookup stays possible."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


class Invitation(db.Model):
    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("wave_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the secret token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]
    #: When answers last arrived through this link (the submission also locks this row).
    last_submitted_at: Mapped[datetime | None]

    wave: Mapped[Wave] = relationship()
    organisation: Mapped[Organisation] = relationship()

    def issue_token(self) -> str:
        """Give the invitation a fresh token (invalidating any earlier link) and return it, once."""
        token = new_token()
        self.token_hash = hash_token(token)
        self.revoked_at = None
        return token

    @staticmethod
    def by_token(token: str):  # -> Select[tuple[Invitation]]
        return select(Invitation).where(Invitation.token_hash == hash_token(token))

    def __repr__(self) -> str:
        return f"<Invitation {self.id}>"
