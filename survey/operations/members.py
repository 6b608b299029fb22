"""Cluster members: adding, editing and importing organisations, and their contact persons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from forms.members import MemberRow, RowError
from survey.extensions import db
from survey.models import Cluster, Contact, Organisation
from survey.operations.setup import add_contact


class MemberError(ValueError):
    """A change to a member that cannot be made; the message is for the manager."""


@dataclass(frozen=True)
class MemberDetails:
    name: str
    country: str
    org_type: str | None = None
    size_class: str | None = None


def _by_name(name: str) -> Organisation | None:
    return db.session.scalars(select(Organisation).filter_by(name=name)).one_or_none()


def _may_join(organisation: Organisation, visible: frozenset[int] | None) -> bool:
    """An organisation already on the platform is joined to a cluster only by someone who can already see it:
    otherwise a manager could reach another cluster's member, and its contacts, by typing its name."""
    return visible is None or any(cluster.id in visible for cluster in organisation.clusters)


def add_member(cluster: Cluster, details: MemberDetails, visible: frozenset[int] | None) -> Organisation:
    """Make an organisation a member of the cluster, creating it when it is new to the platform.

    `visible` holds the clusters of the person asking (None: all), see `_may_join`.
    """
    organisation = _by_name(details.name)
    if organisation is None:
        organisation = Organisation(
            name=details.name,
            country=details.country,
            org_type=details.org_type,
            size_class=details.size_class,
            ecosystem=cluster.ecosystem,
            clusters=[cluster],
        )
        db.session.add(organisation)
    elif cluster in organisation.clusters:
        raise MemberError(_("%(name)s is already a member of this cluster.", name=details.name))
    elif _may_join(organisation, visible):
        organisation.clusters.append(cluster)
    else:
        raise MemberError(
            _(
                "An organisation called %(name)s is already registered with another cluster. "
                "Ask the platform's administrator to add it to yours.",
                name=details.name,
            )
        )
    db.session.flush()
    return organisation


def update_member(organisation: Organisation, details: MemberDetails) -> None:
    other = _by_name(details.name)
    if other is not None and other.id != organisation.id:
        raise MemberError(_("Another organisation is already called %(name)s.", name=details.name))
    organisation.name = details.name
    organisation.country = details.country
    organisation.org_type = details.org_type
    organisation.size_class = details.size_class
    db.session.flush()


def remove_contact(contact: Contact) -> None:
    """Erase a contact person: their name and address are deleted, not just hidden."""
    db.session.delete(contact)
    db.session.flush()


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    contacts: int


def import_members(
    cluster: Cluster, rows: Iterable[MemberRow], visible: frozenset[int] | None
) -> ImportResult | list[RowError]:
    """Add or update the members in the rows, with their contacts; or, when any row cannot be applied, the
    errors (the caller then rolls back, so that a corrected file can be imported again from the start).

    A name already in the cluster updates that member with the row's non-empty values; several rows with one
    name add several contacts.
    """
    created: set[int] = set()
    updated: set[int] = set()
    contacts = 0
    errors: list[RowError] = []
    for row in rows:
        organisation = _by_name(row.name)
        if organisation is None:
            organisation = add_member(
                cluster, MemberDetails(row.name, row.country, row.org_type, row.size_class), visible
            )
            created.add(organisation.id)
        else:
            if cluster not in organisation.clusters:
                if not _may_join(organisation, visible):
                    errors.append(
                        RowError(
                            row.line,
                            _(
                                "an organisation of this name is already registered with "
                                "another cluster; ask the administrator to add it to yours"
                            ),
                        )
                    )
                    continue
                organisation.clusters.append(cluster)
            organisation.country = row.country
            organisation.org_type = row.org_type or organisation.org_type
            organisation.size_class = row.size_class or organisation.size_class
            if organisation.id not in created:
                updated.add(organisation.id)
        if row.contact_email:
            known = {contact.email.lower() for contact in organisation.contacts}
            if row.contact_email.lower() not in known:
                contacts += 1
            add_contact(organisation, row.contact_email, row.contact_name)
    db.session.flush()
    if errors:
        return errors
    return ImportResult(created=len(created), updated=len(updated), contacts=contacts)
