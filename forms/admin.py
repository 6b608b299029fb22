"""Forms for the admin pages: users, clusters and survey waves."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from forms.members import default_questionnaire, options
from forms.questionnaire import MultiCheckboxField
from forms.validators import NoControlCharacters, strip
from survey.auth import ROLE_LABELS
from survey.models import Role
from survey.questionnaire import country_choices

SLUG = Regexp(
    r"^[a-z0-9]+(-[a-z0-9]+)*$",
    message=_l("Use lower-case letters, digits and single hyphens, for example basque-digital-2025."),
)


class UserRoleForm(FlaskForm):
    role = RadioField(
        _l("Role"),
        choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()],
        validators=[DataRequired(_l("Choose a role."))],
    )
    clusters = MultiCheckboxField(
        _l("Clusters they manage"), coerce=int, description=_l("Only for cluster managers, who need at least one.")
    )

    def __init__(self, *args, cluster_choices: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.clusters.choices = [SelectChoice(ident, name) for ident, name in cluster_choices]

    def validate_clusters(self, field) -> None:
        if self.role.data == Role.MANAGER.value and not field.data:
            raise ValidationError(_("Choose at least one cluster for a cluster manager."))


class NewUserForm(UserRoleForm):
    email = EmailField(
        _l("E-mail address"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the e-mail address.")),
            Length(max=254),
            Email(_l("Enter an e-mail address like name@example.org.")),
        ],
    )


class ClusterForm(FlaskForm):
    slug = StringField(
        _l("Short name for web addresses"),
        filters=[strip],
        validators=[DataRequired(_l("Enter a short name.")), Length(max=64), SLUG],
    )
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the cluster's name.")), Length(max=200), NoControlCharacters()],
    )
    country = SelectField(_l("Country"), validators=[DataRequired(_l("Choose the country."))])
    nuts2 = StringField(
        _l("NUTS 2 region"),
        filters=[strip, lambda v: v.upper() if isinstance(v, str) else v],
        description=_l("For example DE21 or ITC4."),
        validators=[Optional(), Regexp(r"^[A-Z]{2}[A-Z0-9]{1,2}$", message=_l("Use a NUTS 2 code such as DE21."))],
    )
    ecosystem = SelectField(_l("Industrial ecosystem"), validators=[DataRequired(_l("Choose the ecosystem."))])
    contact_email = EmailField(
        _l("Contact e-mail for respondents"),
        filters=[strip],
        description=_l("Shown on the questionnaire and in invitations, for questions about the survey."),
        validators=[Optional(), Email(_l("Enter an e-mail address such as survey@cluster.example.")), Length(max=254)],
    )
    privacy_url = StringField(
        _l("Privacy notice"),
        filters=[strip],
        description=_l(
            "The address of the cluster organisation's privacy notice; without one, the platform's is shown."
        ),
        validators=[
            Optional(),
            Length(max=500),
            Regexp(r"^https://[^\s<>\"']+$", message=_l("Use an address starting with https://.")),
        ],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = options(_("Choose…"), country_choices(str(get_locale() or "en")))
        ecosystems = [(c.code, _(c.label)) for c in default_questionnaire().items["ecosystem"].choices]
        self.ecosystem.choices = options(_("Choose…"), ecosystems)


class WaveDatesForm(FlaskForm):
    """What may change while a wave is not closed: its title and dates (extending the closing date)."""

    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[DataRequired(_l("Enter a title.")), Length(max=200), NoControlCharacters()],
    )
    opens_on = DateField(
        _l("First day for answers"),
        validators=[Optional()],
        description=_l("Answers are accepted from this day, once the survey is opened."),
    )
    closes_on = DateField(
        _l("Last day for answers"),
        validators=[Optional()],
        description=_l("Invitation links stop working after this day."),
    )

    def validate_closes_on(self, field) -> None:
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError(_("The last day cannot be before the first day."))


class ReopenForm(FlaskForm):
    """Reopening a closed wave needs a new last day for the late answers."""

    closes_on = DateField(
        _l("New last day for answers"),
        validators=[DataRequired(_l("Enter the new last day for answers, for example 2027-03-31."))],
        description=_l("Links of organisations that have not answered work again until this day."),
    )

    def __init__(self, *args, today, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def validate_closes_on(self, field) -> None:
        if field.data and field.data < self.today:
            raise ValidationError(_("The new last day cannot be in the past."))


class WaveForm(WaveDatesForm):
    slug = StringField(
        _l("Short name for web addresses"),
        filters=[strip],
        validators=[DataRequired(_l("Enter a short name.")), Length(max=64), SLUG],
    )
    source = SelectField(
        _l("Questionnaire"), description=_l("Asking the previous survey's questionnaire keeps the results comparable.")
    )

    def __init__(self, *args, source_choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.source.choices = [SelectChoice(value, label) for value, label in source_choices]
