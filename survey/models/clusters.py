"""Clusters and their member organisations; contact persons kept apart from everything else."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, Enum, ForeignKey, Index, String, Table, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db

#: An organisation may belong to several clusters; it still answers once per wave.
membership = Table(
    "membership",
    db.metadata,
    Column("cluster_id", ForeignKey("cluster.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
    # The key leads with the cluster; a submission, an organisation's clusters and the invited counts look
    # memberships up by organisation, which without this index read the whole table (a million rows at 1M).
    Index("ix_membership_organisation_id", "organisation_id"),
)


class Cluster(db.Model):
    __tablename__ = "cluster"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: ISO 3166-1 alpha-2.
    country: Mapped[str] = mapped_column(String(2))
    #: NUTS 2 code, for example "DE21".
    nuts2: Mapped[str | None] = mapped_column(String(4))
    #: Code of one of the 14 industrial ecosystems of the European Cluster Panorama.
    ecosystem: Mapped[str] = mapped_column(String(40))
    #: Whom respondents may ask about the survey (shown on the questionnaire and in e-mails).
    contact_email: Mapped[str | None] = mapped_column(String(254))
    #: The cluster organisation's own privacy notice; without one, the platform's (/privacy) is linked.
    privacy_url: Mapped[str | None] = mapped_column(String(500))

    members: Mapped[list[Organisation]] = relationship(
        secondary=membership, back_populates="clusters", order_by="Organisation.name"
    )

    def __repr__(self) -> str:
        return f"<Cluster {self.slug}>"


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    #: Type code from the questionnaire's profile (sme, university, …).
    org_type: Mapped[str | None] = mapped_column(String(40))
    #: EU size class by persons employed: micro, small, medium, large.
    size_class: Mapped[str | None] = mapped_column(String(20))
    ecosystem: Mapped[str | None] = mapped_column(String(40))
    #: NUTS 2 code, as last answered.
    region: Mapped[str | None] = mapped_column(String(4))
    #: The language its respondent answered in (survey/languages.py): the e-mails and links it is sent next are
    #: in that language. None until it answers.
    language: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    clusters: Mapped[list[Cluster]] = relationship(
        secondary=membership, back_populates="members", order_by="Cluster.slug"
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id}>"


class ProfileChange(db.Model):
    """A change to an organisation's record made by its own answers (the registry learns from the profile a
    respondent gives): what the manager sees on the member page."""

    __tablename__ = "profile_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    #: The profile item: country, region, org_type, size_class or ecosystem.
    field: Mapped[str] = mapped_column(String(20))
    old: Mapped[str | None] = mapped_column(String(40))
    new: Mapped[str | None] = mapped_column(String(40))
    changed_at: Mapped[datetime]


class DeliveryProblem(enum.StrEnum):
    #: The mail server said no to the address while sending (an SMTP 4xx or 5xx reply).
    REFUSED = "refused"
    #: The message could not be handed over at all (the connection broke off).
    FAILED = "failed"
    #: A delivery status notification came back later (`flask mail bounce`).
    BOUNCED = "bounced"


class Contact(db.Model):
    """A contact person: the only personal data the platform holds, never joined into answers or reports."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("organisation_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254))
    #: What went wrong with the last message to this address, if anything (shown to the cluster's managers).
    delivery_problem: Mapped[DeliveryProblem | None] = mapped_column(
        Enum(DeliveryProblem, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e])
    )
    delivery_problem_at: Mapped[datetime | None]
    #: The server's reply or the bounce's status, e.g. "550 5.1.1 No such mailbox"; never a message or a link.
    delivery_error: Mapped[str | None] = mapped_column(String(200))

    organisation: Mapped[Organisation] = relationship(back_populates="contacts")

    def record_problem(self, problem: DeliveryProblem, error: str, now: datetime) -> None:
        self.delivery_problem = problem
        self.delivery_problem_at = now
        self.delivery_error = " ".join(error.split())[:200] or None

    def record_accepted(self) -> None:
        """The server took a message for this address: a refusal is over. A bounce is not: servers accept mail
        for addresses that bounce later, so only a corrected address (deleted and added again) clears it."""
        if self.delivery_problem is not DeliveryProblem.BOUNCED:
            self.delivery_problem = self.delivery_problem_at = self.delivery_error = None

    def __repr__(self) -> str:  # never the e-mail: reprs end up in logs
        return f"<Contact {self.id}>"
