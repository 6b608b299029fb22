"""What every form shares: the strip filter, the control-character check, and the status of a failed form."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms.validators import StopValidation, ValidationError


def strip(value: object) -> object:
    """Filter: surrounding white space removed from text (other values as they are)."""
    return value.strip() if isinstance(value, str) else value


def form_status(form) -> int:
    """The status of a form that did not validate: 400 when its CSRF token failed, else 422 (answers to fix)."""
    return 400 if "csrf_token" in form.errors else 422


# C0 and C1 control characters, except tab, line feed and carriage return (which a textarea may hold).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class NoControlCharacters:
    """Refuse invisible control characters, which have no place in an answer and break exports."""

    def __init__(self, multiline: bool = False) -> None:
        self.pattern = _CONTROL if multiline else _CONTROL_SINGLE_LINE

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and self.pattern.search(field.data):
            raise ValidationError(_l("Remove the invisible control characters from this answer."))


class RequiredToSubmit:
    """An answer is needed to submit, but not to save a draft (the form's `submitting` flag)."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if not getattr(form, "submitting", True):
            return
        if not field.raw_data or not any(str(value).strip() for value in field.raw_data):
            field.errors[:] = []
            raise StopValidation(self.message or _l("Please answer this question."))


class Exclusive:
    """In a tick-all-that-apply question, an answer such as "None of these" stands alone."""

    def __init__(self, code: str, label: str) -> None:
        self.code = code
        self.label = label

    def __call__(self, form, field) -> None:
        if field.data and self.code in field.data and len(field.data) > 1:
            raise ValidationError(_l('"%(label)s" cannot be ticked together with other answers.', label=self.label))
