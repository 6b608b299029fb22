"""What every form shares: the strip filter, the control-character check, and the status of a failed form."""

from __future__ import annotations

import re

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from wtforms.validators import StopValidation, ValidationError


def strip(value: object) -> object:
    """Filter: surrounding white space removed from text (other values as they are)."""
    return value.strip() if isinstance(value, str) else value


def form_status(form) -> int:
    """The status of a form that did not validate: 400 when its CSRF token failed, else 422 (answers to fix)."""
    return 400 if "csrf_token" in form.errors else 422


# Never in any text: C0 and C1 control characters (tab, line feed and carriage return only in a textarea), lone
# UTF-16 surrogates (JSON can carry them; they broke the CSV export and the database), and the bidirectional
# overrides and isolates that make text display in another order than it is stored (spoofing).
_ALWAYS = r"\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069"
# Also never in a name or other single line: line and paragraph separators (U+2028 split a `To:` header), and
# zero-width and other invisible format characters, which make two names look alike.
_SINGLE_LINE = r"\u2028\u2029\u200b-\u200f\u2060-\u2064\ufeff\u00ad"
_CONTROL = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f{_ALWAYS}]")
_CONTROL_SINGLE_LINE = re.compile(rf"[\x00-\x1f{_ALWAYS}{_SINGLE_LINE}]")


def has_control_characters(text: str, multiline: bool = False) -> bool:
    """Whether the text holds a character that `NoControlCharacters` refuses."""
    return bool((_CONTROL if multiline else _CONTROL_SINGLE_LINE).search(text))


class NoControlCharacters:
    """Refuse invisible control and formatting characters, which have no place in an answer or a name, break
    exports and headers, and let one name pass for another."""

    def __init__(self, multiline: bool = False) -> None:
        self.pattern = _CONTROL if multiline else _CONTROL_SINGLE_LINE

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and self.pattern.search(field.data):
            raise ValidationError(_l("Remove the invisible control characters from this answer."))


class WholeNumberBetween:
    """A whole number from `low` to `high`, compared as integers: WTForms' NumberRange turns the answer into a
    float first, which a 400-digit answer overflows (a server error instead of a message)."""

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.high = high

    def __call__(self, form, field) -> None:
        if isinstance(field.data, int) and not self.low <= field.data <= self.high:
            raise ValidationError(
                _l(
                    "Enter a whole number from %(low)s to %(high)s.",
                    low=format_decimal(self.low),
                    high=format_decimal(self.high),
                )
            )


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
