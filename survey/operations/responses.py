"""Saving drafts and submitting responses."""

from __future__ import annotations

import hmac
import secrets
from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import joinedload

from survey.extensions import db
from survey.models import (
    Draft,
    Invitation,
    Organisation,
    ProfileChange,
    Response,
    Wave,
    WaveState,
    hash_token,
    membership,
    response_cluster,
)
from survey.operations.answering_time import seconds_taken
from survey.operations.tallies import apply_counts, response_counts
from survey.questionnaire import PROFILE_SECTION, Questionnaire


class LinkNotFound(Exception):
    """No invitation has this token (never had, or the link was replaced by a newer one)."""


class LinkExpired(Exception):
    """The invitation exists but its wave no longer (or not yet) takes answers, or it was revoked: `reason` is
    one of `Wave.why_no_answers`' reasons, "revoked", "replaced" (by a newer link) or "counted" (the wave was
    reopened, and the organisation's answers were counted at its close: they stay as they were)."""

    def __init__(self, reason: str = "closed", invitation: Invitation | None = None):
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


def find_invitation(token: str, today: date) -> Invitation:
    """The invitation behind a link, if answers may still be given through it."""
    # Everything a page or a submission reads next comes in the same round trip (not four lazy loads).
    query = Invitation.by_token(token).options(
        joinedload(Invitation.wave).joinedload(Wave.questionnaire),
        joinedload(Invitation.organisation),
    )
    invitation = db.session.scalars(query).one_or_none() if token else None
    if invitation is None:
        replaced = db.session.scalars(
            select(Invitation)
            .where(Invitation.replaced_token_hash == hash_token(token))
            .options(joinedload(Invitation.wave), joinedload(Invitation.organisation))
        ).first()
        if replaced is not None:
            raise LinkExpired("replaced", replaced)
        raise LinkNotFound()
    if invitation.revoked_at is not None:
        raise LinkExpired("revoked", invitation)
    reason = invitation.wave.why_no_answers(today)
    if reason is not None:
        raise LinkExpired(reason, invitation)
    if invitation.wave.reopenings:
        check_not_counted(invitation.wave, find_response(invitation), invitation)
    return invitation


def check_not_counted(wave: Wave, response: Response | None, invitation: Invitation | None = None) -> None:
    """A reopened wave takes answers from organisations that had none counted at its close. Those counted
    then stay as published (a change would show through the next publication as the difference)."""
    if response is not None and response.reopening < wave.reopenings:
        raise LinkExpired("counted", invitation)


def check_still_open(wave: Wave) -> None:
    """Raise LinkExpired unless the wave is still open as committed now, holding a share lock on its row until
    this transaction ends (PostgreSQL; SQLite's single writer orders them anyway).

    The link, dates included, was checked when the request began; a close committed since then must win.
    Closing takes the row's exclusive lock (`survey.operations.platform.close_wave`), so a close waits for the
    submissions in flight to commit, and the submissions after it wait for the close and then see the wave
    closed: none is stored after the close (2 of 80 in a burst were, before)."""
    state = db.session.scalar(select(Wave.state).where(Wave.id == wave.id).with_for_update(read=True))
    if state is not WaveState.OPEN:
        raise LinkExpired()


def split_profile(questionnaire: Questionnaire, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    profile_codes = {item.code for item in questionnaire.section(PROFILE_SECTION).items}
    profile = {code: values.get(code) for code in profile_codes}
    answers = {code: value for code, value in values.items() if code not in profile_codes}
    return profile, answers


class AnswersLocked(Exception):
    """The organisation's answers were submitted from elsewhere: without their key they are neither shown nor
    changed (a manager holding the link, say)."""


def new_edit_key() -> str:
    return secrets.token_urlsafe(32)


def holds_key(answers: Response | Draft, edit_key: str | None) -> bool:
    """Whether `edit_key` is the key of whoever submitted this response (or saved this draft)."""
    return (
        answers.edit_key_hash is not None
        and edit_key is not None
        and hmac.compare_digest(answers.edit_key_hash, hash_token(edit_key))
    )


def current_values(invitation: Invitation, edit_key: str | None = None) -> tuple[dict[str, Any], str]:
    """What the questionnaire shows when opened: the submitted answers to whoever holds their key, else the
    draft to whoever holds its key, else the profile on file; nothing once answers were submitted from elsewhere.

    Returns the values and where they came from ("response", "draft", "new", "elsewhere": a draft saved in
    another browser, or "locked").
    """
    response = find_response(invitation)
    if response is not None and not holds_key(response, edit_key):
        return {}, "locked"
    draft = db.session.scalars(select(Draft).filter_by(invitation_id=invitation.id)).one_or_none()
    if draft is not None and (draft.edit_key_hash is None or holds_key(draft, edit_key)):
        return dict(draft.answers), "draft"
    if response is not None:
        return {**response.profile, **response.answers}, "response"
    organisation = invitation.organisation
    ecosystem = organisation.ecosystem or (organisation.clusters[0].ecosystem if organisation.clusters else None)
    profile = {
        "country": organisation.country,
        "region": organisation.region,
        "org_type": organisation.org_type,
        "size_class": organisation.size_class,
        "ecosystem": ecosystem,
    }
    return profile, "elsewhere" if draft is not None and response is None else "new"


#: The profile answers the member record keeps (item code = Organisation attribute).
PROFILE_FIELDS = ("country", "region", "org_type", "size_class", "ecosystem")


def learn_profile(organisation: Organisation, profile: dict[str, Any], wave_id: int, now: datetime) -> None:
    """The member record follows the profile the organisation answered; each change is kept for the manager to
    see (the manager knows a member's profile anyway: it is the record they keep)."""
    for field in PROFILE_FIELDS:
        new = profile.get(field) or None
        old = getattr(organisation, field)
        if field not in profile or new == old or (new is None and field != "region"):
            continue
        db.session.add(
            ProfileChange(
                organisation_id=organisation.id, wave_id=wave_id, field=field, old=old, new=new, changed_at=now
            )
        )
        setattr(organisation, field, new)


def find_response(invitation: Invitation) -> Response | None:
    return db.session.scalars(
        select(Response).filter_by(wave_id=invitation.wave_id, organisation_id=invitation.organisation_id)
    ).one_or_none()


def save_draft(invitation: Invitation, values: dict[str, Any], now: datetime, edit_key: str | None = None) -> Draft:
    """Keep the answers typed so far, without counting them anywhere, under the saving browser's key (a draft
    saved elsewhere is replaced). Once answers are submitted, only whoever holds their key may keep a draft of
    changes (AnswersLocked otherwise)."""
    response = find_response(invitation)
    if response is not None and not holds_key(response, edit_key):
        raise AnswersLocked()
    draft = db.session.scalars(select(Draft).filter_by(invitation_id=invitation.id)).one_or_none()
    if draft is None:
        draft = Draft(invitation_id=invitation.id, answers=values, saved_at=now)
        db.session.add(draft)
    else:
        draft.answers = values
        draft.saved_at = now
    draft.edit_key_hash = hash_token(edit_key) if edit_key else None
    db.session.flush()
    return draft


def submit_response(
    invitation: Invitation, values: dict[str, Any], now: datetime, edit_key: str | None = None, checked: bool = True
) -> tuple[Response, bool]:
    """Store the organisation's answers for the wave, replacing earlier ones, and update the tallies.

    `edit_key`: the key of whoever submits; a first submission stores its hash, and replacing answers needs it
    (AnswersLocked otherwise). `checked=False` is for internal callers (tests, imports) that replace regardless.
    Returns the response and whether it is new. Values must already be validated against the questionnaire.
    """
    # Take the invitation's row lock first (a write also takes SQLite's write lock), so that parallel
    # submissions through one link run one after the other and the second one sees the first's response.
    db.session.execute(update(Invitation).where(Invitation.id == invitation.id).values(last_submitted_at=now))
    check_still_open(invitation.wave)
    questionnaire = invitation.wave.questionnaire.parsed
    profile, answers = split_profile(questionnaire, values)
    # Cluster ids through Core, not Cluster objects through the ORM: a submission needs only the ids.
    cluster_ids = list(
        db.session.scalars(
            select(membership.c.cluster_id)
            .where(membership.c.organisation_id == invitation.organisation_id)
            .order_by(membership.c.cluster_id)
        )
    )

    delta: Counter = Counter()
    response = find_response(invitation)
    check_not_counted(invitation.wave, response, invitation)
    created = response is None
    if response is None:
        response = Response(
            wave_id=invitation.wave_id,
            organisation_id=invitation.organisation_id,
            submitted_at=now,
            edit_key_hash=hash_token(edit_key) if edit_key is not None else None,
            reopening=invitation.wave.reopenings,
            answering_seconds=seconds_taken(invitation, now),
        )
        db.session.add(response)
    else:
        if checked and not holds_key(response, edit_key):
            raise AnswersLocked()
        earlier_clusters = db.session.scalars(
            select(response_cluster.c.cluster_id).where(response_cluster.c.response_id == response.id)
        )
        delta.subtract(
            response_counts(questionnaire, response.wave_id, response.profile, earlier_clusters, response.answers)
        )
    response.country = profile["country"]
    response.region = profile.get("region") or None
    response.org_type = profile["org_type"]
    response.size_class = profile["size_class"]
    response.ecosystem = profile["ecosystem"]
    response.answers = answers
    response.updated_at = now
    learn_profile(invitation.organisation, profile, invitation.wave_id, now)
    delta.update(response_counts(questionnaire, invitation.wave_id, profile, cluster_ids, answers))
    db.session.flush()
    # The response keeps the organisation's clusters as at this submission.
    if not created:
        db.session.execute(delete(response_cluster).where(response_cluster.c.response_id == response.id))
    if cluster_ids:
        db.session.execute(
            insert(response_cluster),
            [{"response_id": response.id, "cluster_id": cluster_id} for cluster_id in cluster_ids],
        )
    db.session.execute(delete(Draft).where(Draft.invitation_id == invitation.id))
    # The tally last, so that the commit follows at once: every submission updates the same "all clusters"
    # rows, and holds their locks from here until its commit, while the others wait.
    apply_counts(db.session, delta)
    return response, created
