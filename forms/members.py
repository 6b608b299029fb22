"""Forms for cluster managers: members, contacts, CSV import, invitation links and e-mails.

Also the CSV import's row checks, which apply the same rules as the member form and report every bad row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache

from email_validator import EmailNotValidError, validate_email
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from forms.validators import NoControlCharacters, has_control_characters, strip
from survey.questionnaire import Questionnaire, country_choices, default_document, parse

#: Most rows one import takes; a cluster with more members imports in parts.
MAX_IMPORT_ROWS = 5000
IMPORT_COLUMNS = ("name", "country", "org_type", "size_class", "contact_name", "contact_email")
REQUIRED_COLUMNS = ("name", "country")


@cache
def default_questionnaire() -> Questionnaire:
    """Organisation types and size classes are the questionnaire's own codes, so that reports can use them."""
    return parse(default_document())


def type_choices() -> list[tuple[str, str]]:
    return [(c.code, _(c.label)) for c in default_questionnaire().items["org_type"].choices]


def size_choices() -> list[tuple[str, str]]:
    return [(c.code, _(c.label)) for c in default_questionnaire().items["size_class"].choices]


def ecosystem_choices() -> list[tuple[str, str]]:
    return [(c.code, _(c.label)) for c in default_questionnaire().items["ecosystem"].choices]


def options(empty_label: str, pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """A drop-down's options: an empty first one, then (code, label) pairs."""
    return [SelectChoice("", empty_label), *(SelectChoice(code, label) for code, label in pairs)]


class MemberForm(FlaskForm):
    name = StringField(
        _l("Name of the organisation"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the organisation's name.")), Length(max=200), NoControlCharacters()],
    )
    country = SelectField(_l("Country"), validators=[DataRequired(_l("Choose the country."))])
    org_type = SelectField(_l("Type of organisation"), validators=[Optional()])
    size_class = SelectField(_l("Persons employed"), validators=[Optional()])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = options(_("Choose…"), country_choices(str(get_locale() or "en")))
        self.org_type.choices = options(_("Not known"), type_choices())
        self.size_class.choices = options(_("Not known"), size_choices())


class NewMemberForm(MemberForm):
    contact_name = StringField(
        _l("Contact person's name"), filters=[strip], validators=[Optional(), Length(max=200), NoControlCharacters()]
    )
    contact_email = EmailField(
        _l("Contact person's e-mail address"),
        filters=[strip],
        description=_l("Invitations and reminders go to this address."),
        validators=[Optional(), Length(max=254), Email(_l("Enter an e-mail address like name@example.org."))],
    )


class ContactForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip], validators=[Optional(), Length(max=200), NoControlCharacters()])
    email = EmailField(
        _l("E-mail address"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the e-mail address.")),
            Length(max=254),
            Email(_l("Enter an e-mail address like name@example.org.")),
        ],
    )


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file to import."))])


class LinksForm(FlaskForm):
    members = RadioField(
        _l("Which members"),
        choices=[
            SelectChoice("missing", _l("Members without a working link")),
            SelectChoice("waiting", _l("Members who have not submitted answers yet (for a reminder)")),
            SelectChoice(
                "all", _l("All members: the links they have, which keep working, and new ones for the others")
            ),
        ],
        default="missing",
        validators=[DataRequired(_l("Choose which members get links."))],
    )


class SendForm(FlaskForm):
    kind = RadioField(
        _l("What to send"),
        choices=[
            SelectChoice("invitation", _l("Invitations, to members not yet e-mailed for this survey")),
            SelectChoice("reminder", _l("Reminders, to e-mailed members that have not submitted their answers")),
        ],
        default="invitation",
        validators=[DataRequired(_l("Choose what to send."))],
    )
    #: Set by the preview page's button: the first post shows what would go to whom, the second sends.
    confirmed = HiddenField()


@dataclass(frozen=True)
class MemberRow:
    """One valid row of an import file."""

    line: int
    name: str
    country: str
    org_type: str | None
    size_class: str | None
    contact_name: str
    contact_email: str | None


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


def _check_row(
    line: int, raw: dict[str, str], countries: set[str], types: set[str], sizes: set[str]
) -> MemberRow | RowError:
    value = {column: (raw.get(column) or "").strip() for column in IMPORT_COLUMNS}
    problems: list[str] = []
    if any(has_control_characters(text) for text in value.values()):
        problems.append(_("remove the invisible control characters"))
    if not value["name"]:
        problems.append(_("the name is missing"))
    elif len(value["name"]) > 200:
        problems.append(_("the name is longer than 200 characters"))
    country = value["country"].upper()
    if country not in countries:
        problems.append(_("“%(value)s” is not a two-letter country code such as DE or ES", value=value["country"]))
    if value["org_type"] and value["org_type"] not in types:
        problems.append(
            _(
                "“%(value)s” is not an organisation type (use one of: %(codes)s)",
                value=value["org_type"],
                codes=", ".join(sorted(types)),
            )
        )
    if value["size_class"] and value["size_class"] not in sizes:
        problems.append(
            _(
                "“%(value)s” is not a size class (use one of: %(codes)s)",
                value=value["size_class"],
                codes=", ".join(sorted(sizes)),
            )
        )
    if len(value["contact_name"]) > 200:
        problems.append(_("the contact name is longer than 200 characters"))
    email = None
    if value["contact_email"]:
        try:
            email = validate_email(value["contact_email"], check_deliverability=False).normalized
        except EmailNotValidError:
            problems.append(_("“%(value)s” is not an e-mail address", value=value["contact_email"]))
    if problems:
        return RowError(line, "; ".join(problems))
    return MemberRow(
        line,
        value["name"],
        country,
        value["org_type"] or None,
        value["size_class"] or None,
        value["contact_name"],
        email,
    )


def parse_member_csv(data: bytes) -> tuple[list[MemberRow], list[RowError]]:
    """Read an import file: UTF-8 (with or without a byte order mark), comma- or semicolon-separated, with a
    header row naming the columns. Returns the valid rows and one error per bad row (line 1 is the header)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowError(0, _("The file is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8”."))]
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        return [], [RowError(1, _("The file is empty: the first row must name the columns."))]
    # Spreadsheets in much of Europe save CSV with semicolons.
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [column.strip().lower() for column in next(reader)]
        unknown = [column for column in header if column not in IMPORT_COLUMNS]
        missing = [column for column in REQUIRED_COLUMNS if column not in header]
        if unknown or missing or len(set(header)) != len(header):
            return [], [
                RowError(
                    1,
                    _(
                        "The first row must name the columns; known columns are %(known)s, and "
                        "name and country are required. Found: %(found)s.",
                        known=", ".join(IMPORT_COLUMNS),
                        found=", ".join(header),
                    ),
                )
            ]
        countries = {code for code, _name in country_choices()}
        types = {code for code, _label in type_choices()}
        sizes = {code for code, _label in size_choices()}
        rows: list[MemberRow] = []
        errors: list[RowError] = []
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) + len(errors) >= MAX_IMPORT_ROWS:
                errors.append(RowError(line, _("Too many rows: import at most %(n)d at a time.", n=MAX_IMPORT_ROWS)))
                break
            if len(record) > len(header):
                errors.append(RowError(line, _("this row has more cells than there are columns")))
                continue
            checked = _check_row(line, dict(zip(header, record, strict=False)), countries, types, sizes)
            if isinstance(checked, RowError):
                errors.append(checked)
            else:
                rows.append(checked)
    except csv.Error as exc:
        return [], [RowError(reader.line_num, _("The file is not valid CSV (%(reason)s).", reason=str(exc)))]
    if not rows and not errors:
        errors.append(RowError(2, _("The file has no rows below the column names.")))
    return rows, errors
