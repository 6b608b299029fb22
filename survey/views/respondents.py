"""The respondent's path: invitation link -> questionnaire -> draft or submission -> confirmation."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from forms.questionnaire import displayed_questionnaire, questionnaire_form
from survey import clock
from survey.extensions import db
from survey.operations.responses import (
    LinkExpired,
    LinkNotFound,
    current_values,
    find_invitation,
    find_response,
    save_draft,
    submit_response,
)

bp = Blueprint("respond", __name__, url_prefix="/r")


def _invitation_or_abort(token: str):
    try:
        return find_invitation(token, clock.today())
    except LinkNotFound:
        abort(404, _("This invitation link is not known. Check that you copied the whole link from the e-mail."))
    except LinkExpired:
        abort(410)


@bp.route("/<token>", methods=["GET", "POST"])
def questionnaire(token: str):
    invitation = _invitation_or_abort(token)
    questionnaire = invitation.wave.questionnaire.parsed
    form_class = questionnaire_form(questionnaire)

    if request.method == "GET":
        values, source = current_values(invitation)
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
    if not form.submitting:
        save_draft(invitation, form.values(), clock.now())
        db.session.commit()
        return redirect(url_for(".questionnaire", token=token, saved=1) + "#top", code=303)
    submit_response(invitation, form.values(), clock.now())
    db.session.commit()
    return redirect(url_for(".submitted", token=token), code=303)


@bp.get("/<token>/submitted")
def submitted(token: str):
    invitation = _invitation_or_abort(token)
    response = find_response(invitation)
    if response is None:
        return redirect(url_for(".questionnaire", token=token))
    return render_template("respond/submitted.html", invitation=invitation, response=response, token=token)
