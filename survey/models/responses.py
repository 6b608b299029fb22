"""Responses (one per organisation and wave) and drafts saved before submission."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import JSONDocument, db
from survey.models.clusters import Cluster

#: The organisation's clusters as they were at submission: later membership changes do not move old answers.
response_cluster = Table(
    "response_cluster",
    db.metadata,
    Column("response_id", ForeignKey("response.id", ondelete="CASCADE"), primary_key=True),
    Column("cluster_id", ForeignKey("cluster.id"), primary_key=True, index=True),
)


class Response(db.Model):
    """An organisation's submitted answers to one wave. No personal data lives here."""

    __tablename__ = "response"
    __table_args__ = (UniqueConstraint("wave_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The profile as answered at submission; these are the report dimensions.
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(4))
    org_type: Mapped[str] = mapped_column(String(40))
    size_class: Mapped[str] = mapped_column(String(20))
    ecosystem: Mapped[str] = mapped_column(String(40))
    #: Every non-profile answer by item code: a code, a list of codes, a number or text.
    answers: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    submitted_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: Hash of the key held by whoever submitted (a cookie in their browser, or the API client): only with it are
    #: the answers shown again or changed. None: nobody can (rows from before keys, or internal imports).
    edit_key_hash: Mapped[str | None] = mapped_column(String(64))
    #: `Wave.reopenings` when it was first submitted: 0 before the wave's first close, n during its n-th
    #: reopening. Answers counted at a close are not changed after it (the figures published then stay true).
    reopening: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Seconds from the link's first showing of the questionnaire to this first submission, when that was one
    #: sitting (`survey.operations.answering_time`); only ever read as a wave's median.
    answering_seconds: Mapped[int | None]

    clusters: Mapped[list[Cluster]] = relationship(secondary=response_cluster, order_by="Cluster.id")

    @property
    def profile(self) -> dict[str, str | None]:
        return {
            "country": self.country,
            "region": self.region,
            "org_type": self.org_type,
            "size_class": self.size_class,
            "ecosystem": self.ecosystem,
        }

    def __repr__(self) -> str:
        return f"<Response {self.id}>"


class Draft(db.Model):
    """Answers saved with "Save and continue later"; not counted anywhere until submitted."""

    __tablename__ = "draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"), unique=True)
    #: The form's values by item code, as typed (already checked against the questionnaire).
    answers: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    saved_at: Mapped[datetime]
    #: Hash of the key the saving browser keeps (as for submitted answers): whoever else holds the link, a
    #: manager among them, never sees the draft. None for drafts saved before drafts had keys.
    edit_key_hash: Mapped[str | None] = mapped_column(String(64))
