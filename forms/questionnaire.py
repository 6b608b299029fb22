"""The questionnaire as a WTForms form class, built from a questionnaire document (one class per version)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
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
from wtforms.validators import Length, NumberRange, Optional, Regexp

from forms.validators import Exclusive, NoControlCharacters, RequiredToSubmit
from survey.questionnaire import Item, Questionnaire, country_choices


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


class QuestionnaireForm(FlaskForm):
    """Base class: `submitting` is False for "Save and continue later", which accepts unanswered questions."""

    submitting = True
    item_codes: tuple[str, ...] = ()

    def values(self) -> dict[str, Any]:
        """The answers by item code, with empty answers as None (or [] for tick-all-that-apply)."""
        result = {}
        for code in self.item_codes:
            data = self[code].data
            result[code] = list(data or []) if isinstance(self[code], SelectMultipleField) else _empty_to_none(data)
        return result

    @property
    def csrf_failed(self) -> bool:
        return "csrf_token" in self.errors


def _field(item: Item) -> Field:
    choices = [SelectChoice(c.code, _l(c.label)) for c in item.choices]
    required = [RequiredToSubmit()] if item.required else []
    label = _l(item.label)
    description = _l(item.help) if item.help else ""
    if item.type == "choice":
        return RadioField(label, choices=choices, validators=[*required, Optional()], description=description)
    if item.type in {"select", "country"}:
        options = [SelectChoice(*pair) for pair in country_choices()] if item.type == "country" else choices
        return SelectField(
            label,
            choices=[SelectChoice("", _l("Choose…")), *options],
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
            validators=[*required, Optional(), NumberRange(min=item.min, max=item.max)],
            description=description,
        )
    text_validators = [*required, Optional(), Length(max=item.max_length or 2000)]
    if item.pattern:
        text_validators.append(Regexp(item.pattern, message=_l("Use the format shown in the hint.")))
    if item.type == "textarea":
        return TextAreaField(
            label,
            validators=[*text_validators, NoControlCharacters(multiline=True)],
            filters=[_strip],
            description=description,
        )
    return StringField(
        label, validators=[*text_validators, NoControlCharacters()], filters=[_strip], description=description
    )


_FORM_CLASSES: dict[tuple[str, int], type[QuestionnaireForm]] = {}


def questionnaire_form(questionnaire: Questionnaire) -> type[QuestionnaireForm]:
    """The form class for a questionnaire version (built once per process)."""
    key = (questionnaire.code, questionnaire.version)
    if key not in _FORM_CLASSES:
        attributes: dict[str, Any] = {code: _field(item) for code, item in questionnaire.items.items()}
        attributes["item_codes"] = tuple(questionnaire.items)
        name = f"Questionnaire_{questionnaire.code}_v{questionnaire.version}"
        _FORM_CLASSES[key] = type(name, (QuestionnaireForm,), attributes)
    return _FORM_CLASSES[key]
