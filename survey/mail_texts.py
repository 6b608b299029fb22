"""The subject and text of invitation and reminder e-mails: the default for a cluster and wave, or the one its
manager wrote (`MailText`), with placeholders such as {organisation} filled in for each recipient.

Placeholders are replaced by a lookup in a fixed table, never by `str.format` or a template engine: a manager's
text is data, and `{organisation.__class__}` is an unknown placeholder, not an attribute to look up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from survey.extensions import db
from survey.languages import SOURCE_LANGUAGE, offered
from survey.mail import make_message
from survey.models import Cluster, Contact, MailKind, MailText, Organisation, Wave
from survey.operations.answering_time import estimate_for
from survey.operations.invitations import invitation_link

#: Every placeholder a text may hold, with what it becomes (shown on the edit page, in this order).
PLACEHOLDERS = {
    "greeting": _l("“Hello” and the contact person's name, or “Hello,” when the name is not known"),
    "contact": _l("the contact person's name (empty when not known)"),
    "organisation": _l("the member organisation's name"),
    "cluster": _l("your cluster's name"),
    "wave": _l("the survey's title"),
    "link": _l("the member's personal link to the questionnaire (required in the text)"),
    "closes_on": _l("the survey's last day"),
    "minutes": _l("about how many minutes answering takes"),
    "manager_contact": _l("the cluster's contact address for questions (empty when it has none)"),
    "privacy_link": _l("the privacy notice: how answers are used"),
}

#: Anything between braces without spaces counts as a placeholder, so that a mistyped or unknown one (such as
#: `{organisation.name}`) is refused when the text is saved rather than mailed out as it stands.
_PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")

#: What the preview shows in place of a link (a link exists only at the moment a message is sent).
PREVIEW_LINK = _l("(the member's own link)")


def unknown_placeholders(text: str) -> list[str]:
    """The placeholders in `text` that are not in PLACEHOLDERS, each once, in the order they appear."""
    found = [match.group(1) for match in _PLACEHOLDER.finditer(text)]
    return list(dict.fromkeys(name for name in found if name not in PLACEHOLDERS))


def has_placeholder(text: str, name: str) -> bool:
    return any(match.group(1) == name for match in _PLACEHOLDER.finditer(text))


def fill(text: str, values: dict[str, str]) -> str:
    """The text with each known placeholder replaced by its value, in one pass (so a value that itself looks
    like a placeholder, such as an organisation named "{link}", stays as it is)."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def default_text(kind: MailKind, cluster: Cluster, wave: Wave) -> tuple[str, str]:
    """The subject and text sent when the cluster's manager has written none, with placeholders. Lines about a
    closing date or a contact address appear only when the wave and cluster have them."""
    paragraphs = ["{greeting}"]
    if kind is MailKind.INVITATION:
        subject = _("Invitation: %(title)s", title="{wave}")
        paragraphs.append(
            _(
                "%(cluster)s invites %(organisation)s to take part in the survey “%(wave)s”.",
                cluster="{cluster}",
                organisation="{organisation}",
                wave="{wave}",
            )
        )
        paragraphs.append(
            _(
                "It asks which advanced technologies your organisation uses or plans to use, and takes about "
                "%(minutes)s minutes.",
                minutes="{minutes}",
            )
            + " "
            + _(
                "Answers are published only as totals over groups of organisations, and groups too small to hide "
                "one organisation's answers are withheld. Once submitted, your answers are shown again only in the "
                "web browser they were sent from; the platform's administrators can export all answers for "
                "analysis, with organisations under a code instead of their name."
            )
        )
        paragraphs.append(_("Please answer through this link, which is personal to your organisation:") + "\n{link}")
    else:
        subject = _("Reminder: %(title)s", title="{wave}")
        paragraphs.append(
            _(
                "A reminder: %(cluster)s would like %(organisation)s to answer the survey “%(wave)s”. If you have "
                "already started, your saved answers are kept.",
                cluster="{cluster}",
                organisation="{organisation}",
                wave="{wave}",
            )
        )
        paragraphs.append(_("Your link, the same as in the earlier e-mail:") + "\n{link}")
    if wave.closes_on:
        paragraphs.append(_("The survey is open until %(date)s.", date="{closes_on}"))
    if kind is MailKind.INVITATION:
        paragraphs.append(_("You can save your answers and continue later through the same link."))
    if cluster.contact_email:
        paragraphs.append(_("Questions about the survey: %(address)s", address="{manager_contact}"))
    paragraphs.append(_("How your answers are used: %(url)s", url="{privacy_link}"))
    return subject, "\n\n".join(paragraphs) + "\n"


def saved_text(cluster: Cluster, wave: Wave, kind: MailKind) -> MailText | None:
    return db.session.scalars(
        select(MailText).filter_by(cluster_id=cluster.id, wave_id=wave.id, kind=kind)
    ).one_or_none()


@dataclass(frozen=True)
class Text:
    subject: str
    body: str
    #: The manager's own text (None: the default).
    saved: MailText | None


def text_for(cluster: Cluster, wave: Wave, kind: MailKind) -> Text:
    """What the cluster sends for the wave: its manager's text, or the default."""
    saved = saved_text(cluster, wave, kind)
    if saved is not None:
        return Text(saved.subject, saved.body, saved)
    return Text(*default_text(kind, cluster, wave), None)


def placeholder_values(cluster: Cluster, wave: Wave, organisation: Organisation, contact: Contact, link: str):
    """What each placeholder becomes in the message to one contact person."""
    return {
        "greeting": _("Hello %(name)s,", name=contact.name) if contact.name else _("Hello,"),
        "contact": contact.name or "",
        "organisation": organisation.name,
        "cluster": cluster.name,
        "wave": wave.title,
        "link": link,
        "closes_on": format_date(wave.closes_on, "long") if wave.closes_on else _("(no closing date is set)"),
        "minutes": str(estimate_for(wave).minutes),
        "manager_contact": cluster.contact_email or "",
        "privacy_link": cluster.privacy_url or current_app.config["BASE_URL"] + "/privacy",
    }


class Composer:
    """Builds the e-mail of one kind to one contact person, from the cluster's text for the wave (read once):
    the `Compose` that `send_links` takes."""

    def __init__(self, cluster: Cluster, wave: Wave, kind: MailKind) -> None:
        self.cluster, self.wave, self.kind, self.text = cluster, wave, kind, text_for(cluster, wave, kind)

    def __call__(self, contact: Contact, organisation: Organisation, token: str) -> EmailMessage:
        """The message; an empty token (a preview, which makes no link) shows PREVIEW_LINK instead.

        A member that answered in a language gets the default text in it, and a link that opens in it; a text
        the manager wrote goes as written (in the manager's language), with the link in the member's."""
        language = organisation.language if organisation.language in offered() else None
        with force_locale(language or str(get_locale() or SOURCE_LANGUAGE)):
            text = self.text
            if text.saved is None and language:
                text = Text(*default_text(self.kind, self.cluster, self.wave), None)
            link = invitation_link(token, language) if token else str(PREVIEW_LINK)
            values = placeholder_values(self.cluster, self.wave, organisation, contact, link)
            # Names are single lines when stored; a header never gets a line break from a value all the same.
            subject = re.sub(r"\s*[\r\n]+\s*", " ", fill(text.subject, values)).strip()
            return make_message(contact.email, contact.name, subject, fill(text.body, values))
