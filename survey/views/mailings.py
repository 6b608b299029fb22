"""Cluster managers' e-mail settings for a wave: the subject and text of invitations and reminders, and the days
on which reminders go out by themselves (`flask reminders send`, run by cron).

Scoped like the other managers' pages (`survey.views.managers`): another cluster's pages answer 404.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from forms.mailings import MailTextForm, ReminderDateForm
from forms.validators import form_status
from survey import clock
from survey.access import allow, cluster_or_404
from survey.extensions import db
from survey.mail import mail_configured
from survey.mail_texts import PLACEHOLDERS, Composer, text_for
from survey.models import Cluster, Contact, MailKind, Organisation, ReminderDate, Wave, WaveState
from survey.operations.invitations import InvitationError
from survey.operations.mail_texts import (
    add_reminder_date,
    check_wave_takes_reminder_dates,
    remove_reminder_date,
    reset_mail_text,
    save_mail_text,
)
from survey.queries.lookups import wave_or_404
from survey.queries.reminders import reminder_dates
from survey.queries.rosters import cluster_members

log = logging.getLogger(__name__)

bp = Blueprint("mailings", __name__, url_prefix="/manage")

MANAGERS = ("manager", "admin")


def _kind_or_404(kind: str) -> MailKind:
    try:
        return MailKind(kind)
    except ValueError:
        abort(404)


def _date_form(wave: Wave, formdata=None) -> ReminderDateForm:
    return ReminderDateForm(formdata=formdata, today=clock.today(), opens_on=wave.opens_on, closes_on=wave.closes_on)


def _sample(cluster: Cluster, kind: MailKind, wave: Wave):
    """The saved text as the first member with a contact person would get it (None without such a member)."""
    statement = cluster_members(cluster).join(Contact, Contact.organisation_id == Organisation.id).limit(1)
    organisation = db.session.scalars(statement).first()
    if organisation is None:
        return None, None
    return organisation, Composer(cluster, wave, kind)(organisation.contacts[0], organisation, "")


def _render(
    cluster: Cluster, wave: Wave, kind: MailKind, form: MailTextForm, date_form: ReminderDateForm, status: int = 200
):
    organisation, sample = _sample(cluster, kind, wave)
    return render_template(
        "manage/mail_text.html",
        cluster=cluster,
        wave=wave,
        kind=kind,
        form=form,
        date_form=date_form,
        saved=text_for(cluster, wave, kind).saved,
        placeholders=PLACEHOLDERS,
        sample=sample,
        sample_organisation=organisation,
        reminders=reminder_dates(cluster, wave) if kind is MailKind.REMINDER else [],
        mail_configured=mail_configured(),
        takes_reminder_dates=wave.state is WaveState.OPEN,
    ), status


@bp.route("/<cluster_slug>/waves/<wave_slug>/mail/<kind>", methods=["GET", "POST"])
@allow(*MANAGERS)
def edit_text(cluster_slug: str, wave_slug: str, kind: str):
    cluster, wave, mail_kind = cluster_or_404(cluster_slug), wave_or_404(wave_slug), _kind_or_404(kind)
    if request.method == "GET":
        text = text_for(cluster, wave, mail_kind)
        form = MailTextForm(formdata=None, data={"subject": text.subject, "body": text.body})
        return _render(cluster, wave, mail_kind, form, _date_form(wave))
    form = MailTextForm()
    if not form.validate():  # the form again, with what was typed and what to change
        return _render(cluster, wave, mail_kind, form, _date_form(wave), form_status(form))
    save_mail_text(cluster, wave, mail_kind, form.subject.data, form.body.data, current_user, clock.now())
    db.session.commit()
    log.info(
        "user %s saved the %s text of cluster %s, wave %s", current_user.id, mail_kind.value, cluster.slug, wave.slug
    )
    flash(_("The text is saved: it is used for the next e-mails of this survey to your members."))
    return redirect(url_for(".edit_text", cluster_slug=cluster.slug, wave_slug=wave.slug, kind=kind), code=303)


@bp.post("/<cluster_slug>/waves/<wave_slug>/mail/<kind>/reset")
@allow(*MANAGERS)
def reset_text(cluster_slug: str, wave_slug: str, kind: str):
    cluster, wave, mail_kind = cluster_or_404(cluster_slug), wave_or_404(wave_slug), _kind_or_404(kind)
    if reset_mail_text(cluster, wave, mail_kind):
        db.session.commit()
        log.info("user %s reset the %s text of cluster %s, wave %s", current_user.id, kind, cluster.slug, wave.slug)
    flash(_("The default text is back: it is used for the next e-mails of this survey."))
    return redirect(url_for(".edit_text", cluster_slug=cluster.slug, wave_slug=wave.slug, kind=kind), code=303)


@bp.post("/<cluster_slug>/waves/<wave_slug>/reminders")
@allow(*MANAGERS)
def add_reminder(cluster_slug: str, wave_slug: str):
    cluster, wave = cluster_or_404(cluster_slug), wave_or_404(wave_slug)
    if not mail_configured():
        abort(409, _("E-mail is not set up on this platform, so reminders cannot be sent by themselves."))
    try:
        check_wave_takes_reminder_dates(wave)
    except InvitationError as exc:
        abort(409, str(exc))
    form = _date_form(wave, request.form)
    if not form.validate():
        text = text_for(cluster, wave, MailKind.REMINDER)
        text_form = MailTextForm(formdata=None, data={"subject": text.subject, "body": text.body})
        return _render(cluster, wave, MailKind.REMINDER, text_form, form, form_status(form))
    add_reminder_date(cluster, wave, form.send_on.data)
    db.session.commit()
    flash(_("Reminders go out on the days listed."))
    return redirect(
        url_for(".edit_text", cluster_slug=cluster.slug, wave_slug=wave.slug, kind="reminder", _anchor="schedule"),
        code=303,
    )


@bp.post("/<cluster_slug>/waves/<wave_slug>/reminders/<id:reminder_id>/delete")
@allow(*MANAGERS)
def remove_reminder(cluster_slug: str, wave_slug: str, reminder_id: int):
    cluster, wave = cluster_or_404(cluster_slug), wave_or_404(wave_slug)
    reminder = db.session.scalars(
        select(ReminderDate).filter_by(id=reminder_id, cluster_id=cluster.id, wave_id=wave.id)
    ).one_or_none()
    if reminder is None:
        abort(404)
    remove_reminder_date(reminder)
    db.session.commit()
    flash(_("That day is no longer a reminder day."))
    return redirect(
        url_for(".edit_text", cluster_slug=cluster.slug, wave_slug=wave.slug, kind="reminder", _anchor="schedule"),
        code=303,
    )
