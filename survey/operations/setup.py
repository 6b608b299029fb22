"""Creating the things a survey needs: questionnaires, waves, clusters, organisations, invitations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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


def invite_organisation(wave: Wave, organisation: Organisation, now: datetime) -> tuple[Invitation, str]:
    """Create the organisation's invitation to the wave, or give the existing one a new link.

    Tokens are stored only as hashes, so an existing link cannot be shown again: asking again replaces it,
    and the earlier link stops working. Answers already given are kept.
    """
    invitation = db.session.scalars(
        select(Invitation).filter_by(wave_id=wave.id, organisation_id=organisation.id)
    ).one_or_none()
    if invitation is None:
        invitation = Invitation(wave=wave, organisation=organisation, created_at=now)
        db.session.add(invitation)
    token = invitation.issue_token()
    db.session.flush()
    return invitation, token
