"""Invitation links for a cluster's members: issuing them, revoking them, and sending them by e-mail.

Tokens are stored only as hashes, so a link exists in readable form only at the moment it is issued: issuing
again replaces the earlier link, and answers (and drafts) already given through it are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from survey.extensions import db
from survey.mail import Mailer, MailError
from survey.models import Contact, DeliveryProblem, Invitation, Mailing, MailKind, Organisation, Wave, WaveState
from survey.operations.setup import invite_organisation
from survey.queries.rosters import MemberStatus, Status


def invitation_link(token: str, language: str | None = None) -> str:
    """The absolute link for a token, built from BASE_URL (not from a request's host, which a client chooses,
    and which the CLI does not have); with `language`, the questionnaire opens in it (the default language
    needs no parameter: the link then reads as it always did)."""
    arguments = {"lang": language} if language and language != current_app.config["BABEL_DEFAULT_LOCALE"] else {}
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for("respond.questionnaire", token=token, _external=True, **arguments)


class InvitationError(ValueError):
    """Links cannot be issued or sent now; the message is for the manager."""


def check_wave_takes_invitations(wave: Wave) -> None:
    # A link to a wave that is not open would only show the respondent an "expired" page.
    if wave.state is not WaveState.OPEN:
        raise InvitationError(
            _("Invitations can be issued only while the survey is open; this one is %(state)s.", state=wave.state.label)
        )


def issue_links(
    wave: Wave, members: Iterable[MemberStatus], now: datetime, only_missing: bool
) -> list[tuple[Organisation, str]]:
    """The members' links (only those without a working link, when `only_missing`), with their tokens: a member's
    working link is given again, not replaced (`invite_organisation`)."""
    check_wave_takes_invitations(wave)
    issued = []
    for member in members:
        if only_missing and member.has_working_link:
            continue
        _invitation, token = invite_organisation(wave, member.organisation, now)
        issued.append((member.organisation, token))
    return issued


def revoke_invitation(invitation: Invitation, now: datetime) -> None:
    """Stop the link from working; issuing a new one later makes the organisation invited again."""
    invitation.revoked_at = now
    db.session.flush()


def recipients_for(kind: MailKind, members: Iterable[MemberStatus]) -> list[MemberStatus]:
    """Invitations go to members never e-mailed for the wave, reminders to e-mailed ones with a working link;
    neither goes to a member without contacts or one that has answered."""
    chosen = []
    for member in members:
        if member.contacts == 0 or member.status is Status.RESPONDED:
            continue
        mailed = member.last_mailed_at is not None
        wanted = not mailed if kind is MailKind.INVITATION else mailed and member.has_working_link
        if wanted:
            chosen.append(member)
    return chosen


@dataclass
class SendResult:
    sent: list[Organisation] = field(default_factory=list)
    failed: list[Organisation] = field(default_factory=list)


#: Builds the e-mail to one contact: (contact, organisation, link token) -> message.
Compose = Callable[[Contact, Organisation, str], EmailMessage]


def send_links(
    wave: Wave, members: Iterable[MemberStatus], kind: MailKind, compose: Compose, mailer: Mailer, now: datetime
) -> SendResult:
    """E-mail each member's contacts its link: the one it has, if that works (a reminder carries the link of the
    first e-mail), a new one otherwise.

    When no message to a member goes out, that member keeps the link (or the absence of one) it had. What went
    wrong with an address is recorded on its contact (`Contact.record_problem`), never the message.
    """
    check_wave_takes_invitations(wave)
    result = SendResult()
    for member in members:
        organisation = member.organisation
        previous = db.session.scalars(
            select(Invitation).filter_by(wave_id=wave.id, organisation_id=organisation.id)
        ).one_or_none()
        kept = (
            (previous.token_hash, previous.revoked_at, previous.link_nonce, previous.replaced_token_hash)
            if previous is not None
            else None
        )
        invitation, token = invite_organisation(wave, organisation, now)
        delivered = 0
        for contact in organisation.contacts:
            if contact.delivery_problem is DeliveryProblem.BOUNCED:
                continue  # the mailbox said it does not exist: until the manager changes the address
            try:
                mailer.send(compose(contact, organisation, token))
            except MailError as exc:
                # Kept on the contact, for the manager's wave and member pages; the sending goes on.
                problem = DeliveryProblem.REFUSED if exc.refused else DeliveryProblem.FAILED
                contact.record_problem(problem, exc.reply, now)
                continue
            contact.record_accepted()
            delivered += 1
        if delivered:
            db.session.add(Mailing(invitation_id=invitation.id, kind=kind, sent_at=now, recipients=delivered))
            result.sent.append(organisation)
        else:
            if kept is None:
                db.session.delete(invitation)
            else:
                (
                    invitation.token_hash,
                    invitation.revoked_at,
                    invitation.link_nonce,
                    invitation.replaced_token_hash,
                ) = kept
            result.failed.append(organisation)
        db.session.flush()
    return result
