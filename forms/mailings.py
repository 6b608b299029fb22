"""Forms for a cluster's e-mails: the subject and text of its invitations and reminders, and reminder dates."""

from __future__ import annotations

from datetime import date

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from forms.validators import NoControlCharacters, strip
from survey.mail_texts import has_placeholder, unknown_placeholders

#: Longest text a manager may save: a few screens of e-mail, far more than an invitation needs.
MAX_BODY = 10_000


class KnownPlaceholders:
    """Refuse a text with a placeholder that is not in the list, naming it as it was typed."""

    def __call__(self, form, field) -> None:
        unknown = unknown_placeholders(field.data or "")
        if unknown:
            raise ValidationError(
                ngettext(
                    "%(names)s is not a placeholder. Use only those listed below the form.",
                    "%(names)s are not placeholders. Use only those listed below the form.",
                    len(unknown),
                    names=", ".join("{" + name + "}" for name in unknown),
                )
            )


class MailTextForm(FlaskForm):
    subject = StringField(
        _l("Subject"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the subject.")),
            Length(max=200),
            NoControlCharacters(),
            KnownPlaceholders(),
        ],
    )
    body = TextAreaField(
        _l("Text"),
        description=_l("Plain text. Placeholders in braces, such as {organisation}, are filled in for each member."),
        validators=[
            DataRequired(_l("Enter the text of the e-mail.")),
            Length(max=MAX_BODY),
            NoControlCharacters(multiline=True),
            KnownPlaceholders(),
        ],
    )

    def validate_subject(self, field) -> None:
        # Subjects are written into mail servers' logs and shown in notifications: no place for a secret link.
        if has_placeholder(field.data or "", "link"):
            raise ValidationError(_("Put {link} in the text, not in the subject, which mail servers write in logs."))

    def validate_body(self, field) -> None:
        if not has_placeholder(field.data or "", "link"):
            raise ValidationError(_("The text must contain {link}: without it, the member cannot answer."))


class ReminderDateForm(FlaskForm):
    """A day on which reminders go out: today or later, while the wave takes answers."""

    send_on = DateField(
        _l("Send a reminder on"),
        description=_l("Reminders go to members who were e-mailed, have a working link and have not submitted."),
        validators=[DataRequired(_l("Enter a day, for example 2026-12-14."))],
    )

    def __init__(self, *args, today: date, opens_on: date | None, closes_on: date | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today, self.opens_on, self.closes_on = today, opens_on, closes_on

    def validate_send_on(self, field) -> None:
        if field.data < self.today:
            raise ValidationError(_("Choose today or a later day."))
        if self.opens_on and field.data < self.opens_on:
            raise ValidationError(
                _("Choose a day from %(date)s on, when the survey opens.", date=format_date(self.opens_on, "long"))
            )
        if self.closes_on and field.data > self.closes_on:
            raise ValidationError(
                _("Choose a day by %(date)s, when the survey closes.", date=format_date(self.closes_on, "long"))
            )
