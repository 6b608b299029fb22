"""Invitations: the secret link through which an organisation answers a wave, without an account."""

from __future__ import annotations

import base64
import hashlib
import hmac
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


def derive_token(key: bytes, nonce: str) -> str:
    """An invitation's link token: an HMAC of its random nonce under the app's key, 192 bits. The same link can
    be made again (a reminder re-sends it) without being stored; a database dump, without the key, gives none."""
    digest = hmac.new(key, f"invitation-link:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


class Invitation(db.Model):
    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("wave_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the link's token (looked up by it); the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: With the app's key, makes the token again (`derive_token`); a new nonce retires the link.
    link_nonce: Mapped[str | None] = mapped_column(String(32))
    #: The hash of the link this one replaced, so that the old link can say it was replaced.
    replaced_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]
    #: When answers last arrived through this link (the submission also locks this row).
    last_submitted_at: Mapped[datetime | None]
    #: When the questionnaire was first shown through this link: the start of the time answering took
    #: (`survey.operations.answering_time`).
    opened_at: Mapped[datetime | None]

    wave: Mapped[Wave] = relationship()
    organisation: Mapped[Organisation] = relationship()

    def issue_token(self, key: bytes) -> str:
        """Give the invitation a new link (the earlier one is retired, and says so) and return its token."""
        if self.token_hash:
            self.replaced_token_hash = self.token_hash
        self.link_nonce = secrets.token_urlsafe(16)
        token = derive_token(key, self.link_nonce)
        self.token_hash = hash_token(token)
        self.revoked_at = None
        return token

    def working_token(self, key: bytes) -> str | None:
        """The token of the link the organisation has now, if it works and can be made again (links made before
        links were derived, or under another key, cannot)."""
        if self.revoked_at is not None or self.link_nonce is None:
            return None
        token = derive_token(key, self.link_nonce)
        return token if hmac.compare_digest(hash_token(token), self.token_hash) else None

    @staticmethod
    def by_token(token: str):  # -> Select[tuple[Invitation]]
        return select(Invitation).where(Invitation.token_hash == hash_token(token))

    def __repr__(self) -> str:
        return f"<Invitation {self.id}>"
