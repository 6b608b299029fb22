"""Logging in and out, the account page, password change and personal API tokens: for every role."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from forms.auth import ApiTokenForm, ForgottenPasswordForm, LoginForm, NewPasswordForm, PasswordChangeForm
from forms.validators import form_status
from survey import clock
from survey.access import allow, public
from survey.auth import home_url, safe_next
from survey.extensions import db, limiter
from survey.mail import Mailer, MailError, mail_configured, make_message
from survey.models import ApiToken, Role
from survey.operations.accounts import (
    AccountError,
    authenticate,
    create_api_token,
    end_login_session,
    find_user,
    revoke_api_token,
    set_password,
    start_login_session,
)
from survey.operations.password_reset import RESET_SECONDS, reset_token, user_for_reset

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _account_key() -> str:
    """The account a log-in is for, as typed (trimmed, any case): guesses at one password from many addresses
    count together."""
    email = str(request.form.get("email", ""))[:254].strip().lower()
    return f"login-account:{email}"


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    _login_limit,
    methods=["POST"],
    # Only failed attempts count: an office behind one address can still log in all morning.
    deduct_when=lambda response: response.status_code != 303,
    error_message=lambda: _("Too many failed log-ins from your network. Please wait a few minutes and try again."),
)
@limiter.limit(
    _account_limit,
    methods=["POST"],
    key_func=_account_key,
    deduct_when=lambda response: response.status_code != 303,
    error_message=lambda: _("Too many failed log-ins for this account. Please wait an hour or ask an admin."),
)
def login():
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            if current_user.is_authenticated:
                end_login_session(current_user.session_token)
            # A fresh cookie: nothing from before the log-in (a planted session, say) carries over.
            session.clear()
            start_login_session(user, clock.now())
            login_user(user)
            db.session.commit()
            log.info("user %s logged in", user.id)
            return redirect(safe_next(request.args.get("next")) or home_url(user), code=303)
        db.session.commit()  # nothing changed; ends the transaction the look-up opened
        failed = True
    status = 200 if request.method == "GET" else (422 if failed else form_status(form))
    return render_template("auth/login.html", form=form, failed=failed), status


@bp.route("/login/forgotten", methods=["GET", "POST"])
@public
@limiter.limit(
    _login_limit,
    methods=["POST"],
    error_message=lambda: _("Too many requests from your network. Please wait a few minutes and try again."),
)
def forgotten_password():
    """Asks for an address and e-mails a reset link if an active account has it; says the same either way."""
    form = ForgottenPasswordForm()
    if form.validate_on_submit() and mail_configured():
        user = find_user(form.email.data)
        if user is not None and user.active:
            link = current_app.config["BASE_URL"] + url_for(".reset_password", token=reset_token(user))
            body = render_template("auth/mail/reset.txt", link=link, minutes=RESET_SECONDS // 60)
            try:
                with Mailer() as mailer:
                    mailer.send(make_message(user.email, "", _("Choosing a new password"), body))
            except MailError:
                log.exception("could not send a password reset link")
                abort(502, _("The mail server could not be reached. Please try again later."))
            log.info("password reset link sent to user %s", user.id)
        db.session.commit()
        return render_template("auth/forgotten.html", form=form, sent=True, mail=True)
    status = 200 if request.method == "GET" else form_status(form)
    return render_template("auth/forgotten.html", form=form, sent=False, mail=mail_configured()), status


@bp.route("/login/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    user = user_for_reset(token)
    if user is None:
        abort(410, _("This link to choose a new password has expired or was used already. Ask for a new one."))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            set_password(user, form.new.data)
        except AccountError as exc:
            form.new.errors.append(str(exc))
        else:
            db.session.commit()
            log.info("user %s chose a new password through a reset link", user.id)
            flash(_("Your new password is set. Please log in with it."))
            return redirect(url_for(".login"), code=303)
    status = 200 if request.method == "GET" else form_status(form)
    return render_template("auth/reset.html", form=form), status


@bp.post("/logout")
@allow(*Role)  # anyone logged in
def logout():
    end_login_session(current_user.session_token)
    logout_user()
    session.clear()
    db.session.commit()
    flash(_("You are logged out."))
    return redirect(url_for(".login"), code=303)


def _render_account(token_form: ApiTokenForm, status: int = 200):
    tokens = db.session.scalars(
        select(ApiToken).filter_by(user_id=current_user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    return render_template("auth/account.html", tokens=tokens, token_form=token_form), status


@bp.get("/account")
@allow(*Role)
def account():
    return _render_account(ApiTokenForm(formdata=None))


@bp.route("/account/password", methods=["GET", "POST"])
@allow(*Role)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if authenticate(current_user.email, form.current.data) is None:
            form.current.errors.append(_("This is not your current password."))
        else:
            try:
                set_password(current_user, form.new.data, keep_session=current_user.session_token)
            except AccountError as exc:
                form.new.errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("Your password is changed. Any other sessions of yours have been logged out."))
                return redirect(url_for(".account"), code=303)
    status = 200 if request.method == "GET" else form_status(form)
    return render_template("auth/password.html", form=form), status


@bp.post("/account/tokens")
@allow(*Role)
def create_token():
    form = ApiTokenForm()
    if not form.validate():
        return _render_account(form, form_status(form))
    api_token, token = create_api_token(current_user, form.name.data, clock.now())
    db.session.commit()
    log.info("user %s created API token %s", current_user.id, api_token.id)
    # Shown in this response only: the database keeps just a hash.
    return render_template("auth/token_created.html", api_token=api_token, token=token)


@bp.post("/account/tokens/<id:token_id>/revoke")
@allow(*Role)
def revoke_token(token_id: int):
    api_token = db.session.get(ApiToken, token_id)
    if api_token is None or api_token.user_id != current_user.id:
        abort(404)
    name = api_token.name
    revoke_api_token(api_token)
    db.session.commit()
    log.info("user %s revoked API token %s", current_user.id, token_id)
    flash(_("The token “%(name)s” is revoked: programs that use it are refused from now on.", name=name))
    return redirect(url_for(".account"), code=303)
