"""The questionnaire as a WTForms form class, built from a questionnaire document (one class per version),
and the questionnaire's texts in the page's language, for the template that renders the form."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp, ValidationError

from forms.plausibility import region_problem, unusual
from forms.validators import Exclusive, NoControlCharacters, RequiredToSubmit, WholeNumberBetween, strip
from survey.questionnaire import Choice, Item, Questionnaire, Section, country_choices

#: The empty first option of a drop-down list.
_CHOOSE = _l("Choose…")


#: The bound of a number question that gives none: beyond any count or amount a questionnaire asks for, and kept
#: exactly by every database, JSON reader and spreadsheet (a 400-digit answer gave a server error).
LARGEST_NUMBER = 10**12


def _codes(field: SelectField | SelectMultipleField) -> set[Any]:
    return {field.coerce(choice.value if isinstance(choice, SelectChoice) else choice[0]) for choice in field.choices}


class CodeSelectField(SelectField):
    """A drop-down list whose answer is checked against a set of its codes. WTForms walks every choice,
    translating its label on the way, which for the country list cost more than the rest of a submission's
    validation (bench/load.py); the rule and the message are WTForms' own."""

    def pre_validate(self, form: Any) -> None:
        if not self.process_errors and self.validate_choice and self.data not in _codes(self):
            raise ValidationError(self.invalid_choice_message or self.gettext("Not a valid choice."))


class CodeRadioField(RadioField):
    """Radio buttons, checked as CodeSelectField is."""

    pre_validate = CodeSelectField.pre_validate


class MultiCheckboxField(SelectMultipleField):
    """Tick all that apply, checked against a set of codes as CodeSelectField is, with WTForms' message."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        if self.process_errors or not self.validate_choice or not self.data:
            return
        unacceptable = sorted({str(data) for data in self.data} - {str(code) for code in _codes(self)})
        if unacceptable:
            message = self.ngettext(
                "'%(value)s' is not a valid choice for this field.",
                "'%(value)s' are not valid choices for this field.",
                len(unacceptable),
            )
            raise ValidationError(message % {"value": "', '".join(unacceptable)})


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


class QuestionnaireForm(FlaskForm):
    """Base class: `submitting` is False for "Save and continue later", which accepts unanswered questions."""

    submitting = True
    item_codes: tuple[str, ...] = ()
    #: Labels of the size classes (untranslated), for the messages of `forms.plausibility`.
    size_labels: dict[str, str] = {}
    #: Ticked when the respondent has seen the warnings about unusual figures and says they are right.
    confirm_unusual = BooleanField(_l("These figures are right"))
    #: After `validate`: (item code, message) for each unusual figure.
    warnings: list[tuple[str, str]] = []  # noqa: RUF012 - replaced per form by validate, never changed

    def validate(self, extra_validators=None) -> bool:
        """Each answer's own checks, then the checks between answers (forms/plausibility.py): a region outside
        the chosen country is refused; unusual figures need `confirm_unusual` before a submission is taken."""
        valid = super().validate(extra_validators)
        self.warnings = []
        if "region" in self.item_codes and "country" in self.item_codes and not self.region.errors:
            problem = region_problem(self.country.data, self.region.data)
            if problem:
                self.region.errors = [*self.region.errors, problem]
                valid = False
        if valid and self.submitting:
            self.warnings = unusual(self.values(), self.size_labels)
            if self.warnings and not self.confirm_unusual.data:
                return False
        return valid

    def values(self) -> dict[str, Any]:
        """The answers by item code, with empty answers as None (or [] for tick-all-that-apply)."""
        result = {}
        for code in self.item_codes:
            data = self[code].data
            result[code] = list(data or []) if isinstance(self[code], SelectMultipleField) else _empty_to_none(data)
        return result

    def chosen(self, code: str) -> tuple[Any, ...]:
        """The answer codes shown ticked or selected, by WTForms' own rule: a code equal to the field's data, or for
        tick-all-that-apply one in its list. (The template writes the options itself; WTForms' widgets were slow.)"""
        field = self[code]
        if isinstance(field, SelectMultipleField):
            return tuple(field.data or ())
        return (field.data,)

    @property
    def csrf_failed(self) -> bool:
        return "csrf_token" in self.errors


def _field(item: Item) -> Field:
    choices = [SelectChoice(c.code, _l(c.label)) for c in item.choices]
    required = [RequiredToSubmit()] if item.required else []
    label = _l(item.label)
    description = _l(item.help) if item.help else ""
    if item.type == "choice":
        return CodeRadioField(label, choices=choices, validators=[*required, Optional()], description=description)
    if item.type in {"select", "country"}:
        options = [SelectChoice(*pair) for pair in country_choices()] if item.type == "country" else choices
        return CodeSelectField(
            label,
            choices=[SelectChoice("", _CHOOSE), *options],
            validators=[*required, Optional()],
            description=description,
        )
    if item.type == "multi":
        validators = [Optional()]
        if item.exclusive:
            exclusive_label = next(c.label for c in item.choices if c.code == item.exclusive)
            validators.append(Exclusive(item.exclusive, exclusive_label))
        return MultiCheckboxField(label, choices=choices, validators=validators, description=description)
    if item.type == "integer":
        return IntegerField(
            label,
            validators=[
                *required,
                Optional(),
                WholeNumberBetween(
                    -LARGEST_NUMBER if item.min is None else item.min,
                    LARGEST_NUMBER if item.max is None else item.max,
                ),
            ],
            description=description,
        )
    text_validators = [*required, Optional(), Length(max=item.max_length or 2000)]
    if item.pattern:
        text_validators.append(Regexp(item.pattern, message=_l("Use the format shown in the hint.")))
    if item.type == "textarea":
        return TextAreaField(
            label,
            validators=[*text_validators, NoControlCharacters(multiline=True)],
            filters=[strip],
            description=description,
        )
    return StringField(
        label, validators=[*text_validators, NoControlCharacters()], filters=[strip], description=description
    )


_FORM_CLASSES: dict[tuple[str, int], type[QuestionnaireForm]] = {}


def questionnaire_form(questionnaire: Questionnaire) -> type[QuestionnaireForm]:
    """The form class for a questionnaire version (built once per process)."""
    key = (questionnaire.code, questionnaire.version)
    if key not in _FORM_CLASSES:
        attributes: dict[str, Any] = {code: _field(item) for code, item in questionnaire.items.items()}
        attributes["item_codes"] = tuple(questionnaire.items)
        if "size_class" in questionnaire.items:
            attributes["size_labels"] = {c.code: c.label for c in questionnaire.items["size_class"].choices}
        name = f"Questionnaire_{questionnaire.code}_v{questionnaire.version}"
        _FORM_CLASSES[key] = type(name, (QuestionnaireForm,), attributes)
    return _FORM_CLASSES[key]


def _text(message: str) -> str:
    # A plain string, so that Jinja escapes it: flask-babel's lazy strings, like the result of the template's
    # `_()`, count as safe markup and would reach the page unescaped. (gettext("") is the catalogue's header.)
    return gettext(message) if message else ""


def _choices(choices: tuple[Choice, ...]) -> tuple[Choice, ...]:
    return tuple(Choice(c.code, _text(c.label) or c.code) for c in choices)


def _display_item(item: Item) -> Item:
    if item.type == "country":
        countries = country_choices(str(get_locale() or "en"))
        choices = (Choice("", str(_CHOOSE)), *(Choice(code, name) for code, name in countries))
    elif item.type == "select":
        choices = (Choice("", str(_CHOOSE)), *_choices(item.choices))
    else:
        choices = _choices(item.choices)
    return replace(item, label=_text(item.label), help=_text(item.help), choices=choices)


def _display_section(section: Section) -> Section:
    return replace(
        section,
        title=_text(section.title),
        question=_text(section.question),
        help=_text(section.help),
        scale=_choices(section.scale),
        items=tuple(_display_item(item) for item in section.items),
    )


_DISPLAYED: dict[tuple[str, int, str], Questionnaire] = {}


def displayed_questionnaire(questionnaire: Questionnaire) -> Questionnaire:
    """The questionnaire with its texts in the request's language, as the page shows them (built once per version
    and language, since translating ~400 texts on every request took a fair share of the page's time).

    Drop-down items list their options as the form offers them, the empty "Choose…" first; a country item lists
    the countries. Everything else (codes, types, limits) is the questionnaire's own.
    """
    key = (questionnaire.code, questionnaire.version, str(get_locale()))
    if key not in _DISPLAYED:
        _DISPLAYED[key] = replace(
            questionnaire,
            title=_text(questionnaire.title),
            intro=_text(questionnaire.intro),
            sections=tuple(_display_section(section) for section in questionnaire.sections),
        )
    return _DISPLAYED[key]
