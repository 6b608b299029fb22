"""The respondent's path: invitation link -> questionnaire -> draft or submission -> confirmation."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from forms.questionnaire import displayed_questionnaire, questionnaire_form
from survey import clock
from survey.extensions import db, limiter
from survey.models import hash_token
from survey.operations.answering_time import note_opened
from survey.operations.responses import (
    AnswersLocked,
    LinkExpired,
    LinkNotFound,
    current_values,
    find_invitation,
    find_response,
    new_edit_key,
    save_draft,
    submit_response,
)

bp = Blueprint("respond", __name__, url_prefix="/r")


def _cookie_name(invitation) -> str:
    return f"answers-{invitation.id}"


def _edit_key(invitation) -> str | None:
    """The key to this organisation's submitted answers, if this browser sent them."""
    return request.cookies.get(_cookie_name(invitation))


def _keep_key(response, invitation, key: str):
    """The key goes to the browser that submitted, for as long as a wave may last; never readable by scripts."""
    response.set_cookie(
        _cookie_name(invitation),
        key,
        max_age=400 * 24 * 3600,
        path="/r/",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def _locked(invitation, status: int = 200):
    response = find_response(invitation)
    return render_template("respond/locked.html", invitation=invitation, response=response), status


def _link_key() -> str:
    """Counts saves and submissions per link; the link's hash, so that no secret is kept in the limit store."""
    return "respond:" + hash_token(str((request.view_args or {}).get("token", "")))


def _invitation_or_abort(token: str):
    try:
        return find_invitation(token, clock.today())
    except LinkNotFound:
        abort(404, _("This invitation link is not known. Check that you copied the whole link from the e-mail."))


def _no_answers(gone: LinkExpired, invitation, form=None):
    """The page for a link that takes no answers now, saying why and what became of the organisation's answers.
    With `form` (answers that arrived too late), the questionnaire with every answer in it: nothing typed is
    lost, though none of it was stored."""
    context = {"invitation": invitation, "reason": gone.reason, "response": find_response(invitation)}
    if form is None:
        return render_template("respond/unavailable.html", **context), 410
    questionnaire = displayed_questionnaire(invitation.wave.questionnaire.parsed)
    page = render_template(
        "respond/questionnaire.html", form=form, questionnaire=questionnaire, source="form", saved=False, **context
    )
    return page, 410


@bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LINK_GUESS_RATE_LIMIT"],
    key_func=get_remote_address,
    # Only links that are not known count: guessing, not answering.
    deduct_when=lambda response: response.status_code == 404,
    error_message=lambda: _("Too many unknown links were tried from your network. Please wait a few minutes."),
)
@limiter.limit(
    lambda: current_app.config["RESPONDENT_RATE_LIMIT"],
    methods=["POST"],
    key_func=_link_key,
    error_message=lambda: _("Your answers arrived too often in a short time. Please wait a minute and send again."),
)
def questionnaire(token: str):
    try:
        invitation = _invitation_or_abort(token)
    except LinkExpired as gone:
        invitation = gone.invitation
        posted = questionnaire_form(invitation.wave.questionnaire.parsed)() if request.method == "POST" else None
        return _no_answers(gone, invitation, posted)
    questionnaire = invitation.wave.questionnaire.parsed
    form_class = questionnaire_form(questionnaire)

    key = _edit_key(invitation)
    if request.method == "GET":
        values, source = current_values(invitation, key)
        if source == "locked":
            return _locked(invitation)
        if note_opened(invitation, clock.now()):
            db.session.commit()
        form = form_class(formdata=None, data=values)
        return render_template(
            "respond/questionnaire.html",
            form=form,
            questionnaire=displayed_questionnaire(questionnaire),
            invitation=invitation,
            source=source,
            saved=request.args.get("saved") == "1",
        )

    form = form_class()
    form.submitting = request.form.get("action") != "save"
    if not form.validate():
        status = 400 if form.csrf_failed else 422
        return (
            render_template(
                "respond/questionnaire.html",
                form=form,
                questionnaire=displayed_questionnaire(questionnaire),
                invitation=invitation,
                source="form",
                saved=False,
            ),
            status,
        )
    # The member's next e-mails and links come in the language it answers in.
    invitation.organisation.language = str(get_locale())
    if not form.submitting:
        key = key or new_edit_key()
        try:
            save_draft(invitation, form.values(), clock.now(), key)
        except AnswersLocked:
            db.session.rollback()
            return _locked(invitation, 409)
        db.session.commit()
        saved = redirect(url_for(".questionnaire", token=token, saved=1) + "#top", code=303)
        return _keep_key(saved, invitation, key)
    key = key or new_edit_key()
    try:
        submit_response(invitation, form.values(), clock.now(), key)
    except LinkExpired as gone:  # the wave closed while this was on its way
        db.session.rollback()
        return _no_answers(gone, invitation, form)
    except AnswersLocked:
        db.session.rollback()
        return _locked(invitation, 409)
    db.session.commit()
    return _keep_key(redirect(url_for(".submitted", token=token), code=303), invitation, key)


@bp.get("/<token>/submitted")
def submitted(token: str):
    try:
        invitation = _invitation_or_abort(token)
    except LinkExpired as gone:
        return _no_answers(gone, gone.invitation)
    response = find_response(invitation)
    if response is None:
        return redirect(url_for(".questionnaire", token=token))
    return render_template("respond/submitted.html", invitation=invitation, response=response, token=token)
