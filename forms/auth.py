"""Forms for logging in, changing one's password and managing personal API tokens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from forms.validators import NoControlCharacters, strip

# Long enough for any real password; a cap keeps hashing cheap for junk.
_PASSWORD_CAP = 1000


class LoginForm(FlaskForm):
    # Not checked with an e-mail validator: a malformed address should fail like an unknown one.
    email = StringField(
        _l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=_PASSWORD_CAP)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=_PASSWORD_CAP)]
    )


class PasswordChangeForm(FlaskForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password.")), Length(max=_PASSWORD_CAP)]
    )
    new = PasswordField(
        _l("New password"),
        description=_l(
            "At least 12 characters. A few unrelated words make a password that is long and easy to remember."
        ),
        validators=[DataRequired(_l("Enter a new password.")), Length(max=_PASSWORD_CAP)],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Enter the new password again.")),
            EqualTo("new", _l("The two new passwords are not the same.")),
        ],
    )


class ForgottenPasswordForm(FlaskForm):
    email = StringField(
        _l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)]
    )


class NewPasswordForm(FlaskForm):
    """Choosing a password through an e-mailed reset link (no current password to give)."""

    new = PasswordChangeForm.new
    confirm = PasswordChangeForm.confirm


class ApiTokenForm(FlaskForm):
    name = StringField(
        _l("Name of the token"),
        description=_l("For your own reference, for example the script or tool that will use it."),
        filters=[strip],
        validators=[DataRequired(_l("Give the token a name.")), Length(max=100), NoControlCharacters()],
    )
