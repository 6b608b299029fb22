"""What a cluster manager sees of a wave: each member's invitation and response status, and the response rate."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from survey.extensions import db
from survey.models import (
    Cluster,
    Contact,
    Draft,
    Invitation,
    Mailing,
    Organisation,
    ProfileChange,
    Response,
    Wave,
    WaveState,
    membership,
)


class Status(enum.StrEnum):
    NOT_INVITED = "not_invited"
    REVOKED = "revoked"
    INVITED = "invited"
    DRAFT = "draft"
    RESPONDED = "responded"


@dataclass(frozen=True)
class MemberStatus:
    organisation: Organisation
    invitation: Invitation | None
    contacts: int
    last_mailed_at: datetime | None
    has_draft: bool
    responded_at: datetime | None

    @property
    def status(self) -> Status:
        if self.responded_at is not None:
            return Status.RESPONDED
        if self.invitation is None:
            return Status.NOT_INVITED
        if self.invitation.revoked_at is not None:
            return Status.REVOKED
        return Status.DRAFT if self.has_draft else Status.INVITED

    @property
    def has_working_link(self) -> bool:
        return self.invitation is not None and self.invitation.revoked_at is None


@dataclass(frozen=True)
class Roster:
    members: list[MemberStatus]

    @property
    def responded(self) -> int:
        return sum(1 for m in self.members if m.status is Status.RESPONDED)

    @property
    def invited(self) -> int:
        """Members asked to answer: with a working link, or who answered anyway."""
        return sum(1 for m in self.members if m.has_working_link or m.status is Status.RESPONDED)

    @property
    def response_rate(self) -> float | None:
        """Responses per invited member; None before anyone is invited."""
        return self.responded / self.invited if self.invited else None


def _drafts_and_mailings(invitation_ids: list[int]) -> tuple[set[int], dict[int, datetime]]:
    """Which of the invitations have a saved draft, and when each was last e-mailed."""
    drafts = set(db.session.scalars(select(Draft.invitation_id).where(Draft.invitation_id.in_(invitation_ids))))
    mailed = dict(
        db.session.execute(
            select(Mailing.invitation_id, func.max(Mailing.sent_at))
            .where(Mailing.invitation_id.in_(invitation_ids))
            .group_by(Mailing.invitation_id)
        ).all()
    )
    return drafts, mailed


def cluster_members(cluster: Cluster):  # -> Select[tuple[Organisation]]
    return (
        select(Organisation)
        .join(membership, membership.c.organisation_id == Organisation.id)
        .where(membership.c.cluster_id == cluster.id)
        .order_by(Organisation.name)
    )


def wave_roster(cluster: Cluster, wave: Wave) -> Roster:
    """Every member of the cluster with its status in the wave (a few grouped queries, not one per member)."""
    organisations = db.session.scalars(cluster_members(cluster)).all()
    ids = [organisation.id for organisation in organisations]
    invitations = {
        invitation.organisation_id: invitation
        for invitation in db.session.scalars(
            select(Invitation).where(Invitation.wave_id == wave.id, Invitation.organisation_id.in_(ids))
        )
    }
    responded = dict(
        db.session.execute(
            select(Response.organisation_id, Response.submitted_at).where(
                Response.wave_id == wave.id, Response.organisation_id.in_(ids)
            )
        ).all()
    )
    invitation_ids = [invitation.id for invitation in invitations.values()]
    drafts, mailed = _drafts_and_mailings(invitation_ids)
    contacts = dict(
        db.session.execute(
            select(Contact.organisation_id, func.count())
            .where(Contact.organisation_id.in_(ids))
            .group_by(Contact.organisation_id)
        ).all()
    )
    members = []
    for organisation in organisations:
        invitation = invitations.get(organisation.id)
        members.append(
            MemberStatus(
                organisation=organisation,
                invitation=invitation,
                contacts=contacts.get(organisation.id, 0),
                last_mailed_at=mailed.get(invitation.id) if invitation else None,
                has_draft=invitation is not None and invitation.id in drafts,
                responded_at=responded.get(organisation.id),
            )
        )
    return Roster(members)


@dataclass(frozen=True)
class AddressProblems:
    """A member's addresses that the last message did not reach, the latest problem first."""

    contacts: list[Contact]

    @property
    def latest(self) -> Contact:
        return self.contacts[0]


def address_problems(organisations: list[Organisation]) -> dict[int, AddressProblems]:
    """Per organisation with any, its contacts whose last message was refused, not sent, or bounced."""
    ids = [organisation.id for organisation in organisations]
    problems: dict[int, list[Contact]] = {}
    for contact in db.session.scalars(
        select(Contact)
        .where(Contact.organisation_id.in_(ids), Contact.delivery_problem.is_not(None))
        .order_by(Contact.delivery_problem_at.desc(), Contact.id)
    ):
        problems.setdefault(contact.organisation_id, []).append(contact)
    return {organisation_id: AddressProblems(contacts) for organisation_id, contacts in problems.items()}


def lapsed_members(roster_members: list[MemberStatus], wave: Wave) -> tuple[Wave | None, list[MemberStatus]]:
    """Attrition: the wave before this one, and the members who answered it but have not answered this one."""
    previous = db.session.scalars(
        select(Wave)
        .where(Wave.state != WaveState.DRAFT, Wave.id != wave.id, Wave.opened_at < (wave.opened_at or func.now()))
        .order_by(Wave.opened_at.desc())
        .limit(1)
    ).first()
    if previous is None:
        return None, []
    ids = [member.organisation.id for member in roster_members]
    answered = set(
        db.session.scalars(
            select(Response.organisation_id).where(Response.wave_id == previous.id, Response.organisation_id.in_(ids))
        )
    )
    lapsed = [m for m in roster_members if m.organisation.id in answered and m.status is not Status.RESPONDED]
    return previous, lapsed


def profile_changes(organisation: Organisation) -> list[tuple[Wave, ProfileChange]]:
    """What the organisation's answers changed in its record, newest first, with the wave answered."""
    rows = db.session.execute(
        select(Wave, ProfileChange)
        .join(ProfileChange, ProfileChange.wave_id == Wave.id)
        .where(ProfileChange.organisation_id == organisation.id)
        .order_by(ProfileChange.id.desc())
    )
    return [(wave, change) for wave, change in rows]


def member_history(organisation: Organisation) -> list[tuple[Wave, MemberStatus]]:
    """The organisation's status in every wave that has opened, newest first."""
    waves = db.session.scalars(select(Wave).where(Wave.state != WaveState.DRAFT).order_by(Wave.id.desc())).all()
    invitations = {
        invitation.wave_id: invitation
        for invitation in db.session.scalars(select(Invitation).filter_by(organisation_id=organisation.id))
    }
    responded = dict(
        db.session.execute(
            select(Response.wave_id, Response.submitted_at).where(Response.organisation_id == organisation.id)
        ).all()
    )
    invitation_ids = [invitation.id for invitation in invitations.values()]
    drafts, mailed = _drafts_and_mailings(invitation_ids)
    history = []
    for wave in waves:
        invitation = invitations.get(wave.id)
        history.append(
            (
                wave,
                MemberStatus(
                    organisation=organisation,
                    invitation=invitation,
                    contacts=len(organisation.contacts),
                    last_mailed_at=mailed.get(invitation.id) if invitation else None,
                    has_draft=invitation is not None and invitation.id in drafts,
                    responded_at=responded.get(wave.id),
                ),
            )
        )
    return history
