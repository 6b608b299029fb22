"""Creating the things a survey needs: questionnaires, waves, clusters, organisations, invitations."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from survey.extensions import db
from survey.models import Cluster, Contact, Invitation, Organisation, QuestionnaireVersion, Wave
from survey.questionnaire import default_document, parse


def load_questionnaire(document: dict[str, Any] | None = None) -> QuestionnaireVersion:
    """The stored questionnaire for a document's code and version, storing it the first time."""
    document = document or default_document()
    parsed = parse(document)  # refuse a malformed document before storing it
    stored = db.session.scalars(
        select(QuestionnaireVersion).filter_by(code=parsed.code, version=parsed.version)
    ).one_or_none()
    if stored is None:
        stored = QuestionnaireVersion(code=parsed.code, version=parsed.version, document=document)
        db.session.add(stored)
        db.session.flush()
    elif stored.document != document:
        raise ValueError(
            f"questionnaire {parsed.code} version {parsed.version} is already stored with other content; "
            "give the changed document a new version"
        )
    return stored


def create_wave(
    slug: str,
    title: str,
    questionnaire: QuestionnaireVersion,
    opens_on: date | None = None,
    closes_on: date | None = None,
) -> Wave:
    wave = Wave(slug=slug, title=title, questionnaire=questionnaire, opens_on=opens_on, closes_on=closes_on)
    db.session.add(wave)
    db.session.flush()
    return wave


def find_or_create_organisation(name: str, country: str, cluster: Cluster | None = None) -> Organisation:
    organisation = db.session.scalars(select(Organisation).filter_by(name=name)).one_or_none()
    if organisation is None:
        organisation = Organisation(name=name, country=country, ecosystem=cluster.ecosystem if cluster else None)
        db.session.add(organisation)
    if cluster is not None and cluster not in organisation.clusters:
        organisation.clusters.append(cluster)
    db.session.flush()
    return organisation


def add_contact(organisation: Organisation, email: str, name: str = "") -> Contact:
    for contact in organisation.contacts:
        if contact.email.lower() == email.lower():
            return contact
    contact = Contact(organisation=organisation, email=email, name=name)
    db.session.add(contact)
    db.session.flush()
    return contact


def link_key() -> bytes:
    """The key invitation links are derived with (`survey.models.invitations.derive_token`)."""
    return hashlib.sha256(b"invitation-links:" + str(current_app.config["SECRET_KEY"]).encode()).digest()


def invite_organisation(
    wave: Wave, organisation: Organisation, now: datetime, new_link: bool = False
) -> tuple[Invitation, str]:
    """The organisation's invitation to the wave and its link: the link it has, if that works, so that a
    reminder or a second mail merge carries the same link; a new one (retiring the earlier, which then says it
    was replaced) when it has none that works, or with `new_link`. Answers already given are kept."""
    invitation = db.session.scalars(
        select(Invitation).filter_by(wave_id=wave.id, organisation_id=organisation.id)
    ).one_or_none()
    if invitation is None:
        invitation = Invitation(wave=wave, organisation=organisation, created_at=now)
        db.session.add(invitation)
    token = None if new_link else invitation.working_token(link_key())
    if token is None:
        token = invitation.issue_token(link_key())
    db.session.flush()
    return invitation, token
