"""Admin pages: users and their roles, clusters, survey waves."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from forms.admin import ClusterForm, NewUserForm, ReopenForm, UserRoleForm, WaveDatesForm, WaveForm
from forms.validators import form_status
from survey import clock
from survey.access import allow
from survey.extensions import db
from survey.models import Cluster, Draft, Invitation, Response, Role, User, Wave, WaveState, WaveStateError
from survey.operations.accounts import (
    AccountError,
    activate_user,
    create_user,
    deactivate_user,
    generate_password,
    set_password,
    set_role,
)
from survey.operations.platform import (
    ClusterDetails,
    PlatformError,
    close_wave,
    create_wave_from,
    open_wave,
    reopen_wave,
    save_cluster,
)
from survey.operations.protections import publish_results

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _get_or_404(model, ident: int):
    found = db.session.get(model, ident)
    if found is None:
        abort(404)
    return found


def _all_clusters() -> list[Cluster]:
    return list(db.session.scalars(select(Cluster).order_by(Cluster.name)))


def _cluster_choices() -> list[tuple[int, str]]:
    return [(cluster.id, cluster.name) for cluster in _all_clusters()]


def _chosen_clusters(ids: list[int]) -> list[Cluster]:
    return list(db.session.scalars(select(Cluster).where(Cluster.id.in_(ids or [])).order_by(Cluster.slug)))


@bp.get("/")
@allow("admin")
def index():
    return render_template("admin/index.html")


# Users


@bp.get("/users")
@allow("admin")
def users():
    accounts = db.session.scalars(select(User).order_by(User.active.desc(), User.email)).all()
    return render_template("admin/users.html", users=accounts)


@bp.route("/users/new", methods=["GET", "POST"])
@allow("admin")
def new_user():
    form = NewUserForm(cluster_choices=_cluster_choices())
    if form.validate_on_submit():
        password = generate_password()
        try:
            user = create_user(form.email.data, password, Role(form.role.data), _chosen_clusters(form.clusters.data))
        except AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            user.must_change_password = True  # the admin has seen it
            db.session.commit()
            log.info("admin %s created user %s (%s)", current_user.id, user.id, user.role.value)
            return render_template("admin/password_shown.html", user=user, password=password, new=True)
    status = 200 if request.method == "GET" else form_status(form)
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@allow("admin")
def edit_user(user_id: int):
    user = _get_or_404(User, user_id)
    data = {"role": user.role.value, "clusters": [c.id for c in user.clusters]} if request.method == "GET" else None
    form = UserRoleForm(data=data, cluster_choices=_cluster_choices())
    if form.validate_on_submit():
        try:
            set_role(user, Role(form.role.data), _chosen_clusters(form.clusters.data), current_user)
        except AccountError as exc:
            form.role.errors.append(str(exc))
        else:
            db.session.commit()
            log.info("admin %s set user %s to %s", current_user.id, user.id, user.role.value)
            flash(_("The role of %(email)s is saved.", email=user.email))
            return redirect(url_for(".users"), code=303)
    status = 200 if request.method == "GET" else form_status(form)
    return render_template("admin/user_form.html", form=form, user=user), status


@bp.post("/users/<id:user_id>/deactivate")
@allow("admin")
def deactivate(user_id: int):
    user = _get_or_404(User, user_id)
    try:
        deactivate_user(user, current_user)
    except AccountError as exc:
        abort(409, str(exc))
    db.session.commit()
    log.info("admin %s deactivated user %s", current_user.id, user.id)
    flash(_("%(email)s can no longer log in; their sessions and API tokens stopped working.", email=user.email))
    return redirect(url_for(".users"), code=303)


@bp.post("/users/<id:user_id>/activate")
@allow("admin")
def activate(user_id: int):
    user = _get_or_404(User, user_id)
    activate_user(user)
    db.session.commit()
    log.info("admin %s reactivated user %s", current_user.id, user.id)
    flash(_("%(email)s can log in again.", email=user.email))
    return redirect(url_for(".users"), code=303)


@bp.post("/users/<id:user_id>/password")
@allow("admin")
def reset_password(user_id: int):
    """An admin makes a new password and passes it on; the user must change it at the next log-in. (With mail
    set up, users can also reset their password themselves from the log-in page.)"""
    user = _get_or_404(User, user_id)
    if user.id == current_user.id:
        abort(409, _("Change your own password on your account page."))
    password = generate_password()
    set_password(user, password)
    user.must_change_password = True  # the admin has seen it
    db.session.commit()
    log.info("admin %s set a new password for user %s", current_user.id, user.id)
    return render_template("admin/password_shown.html", user=user, password=password, new=False)


# Clusters


def _cluster_details(form: ClusterForm) -> ClusterDetails:
    return ClusterDetails(
        form.slug.data,
        form.name.data,
        form.country.data,
        form.nuts2.data or None,
        form.ecosystem.data,
        form.contact_email.data or None,
        form.privacy_url.data or None,
    )


@bp.get("/clusters")
@allow("admin")
def clusters():
    return render_template("admin/clusters.html", clusters=_all_clusters())


@bp.route("/clusters/new", methods=["GET", "POST"])
@bp.route("/clusters/<id:cluster_id>", methods=["GET", "POST"])
@allow("admin")
def edit_cluster(cluster_id: int | None = None):
    cluster = _get_or_404(Cluster, cluster_id) if cluster_id is not None else None
    form = ClusterForm(obj=cluster if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            saved = save_cluster(_cluster_details(form), cluster)
        except PlatformError as exc:
            form.slug.errors.append(str(exc))
        else:
            db.session.commit()
            log.info("admin %s saved cluster %s", current_user.id, saved.slug)
            flash(_("The cluster %(name)s is saved.", name=saved.name))
            return redirect(url_for(".clusters"), code=303)
    status = 200 if request.method == "GET" else form_status(form)
    return render_template("admin/cluster_form.html", form=form, cluster=cluster), status


# Survey waves


@bp.get("/waves")
@allow("admin")
def waves():
    all_waves = db.session.scalars(select(Wave).order_by(Wave.id.desc())).all()
    counts = dict(db.session.execute(select(Response.wave_id, func.count()).group_by(Response.wave_id)).all())
    return render_template("admin/waves.html", waves=all_waves, counts=counts, today=clock.today())


@bp.route("/waves/new", methods=["GET", "POST"])
@allow("admin")
def new_wave():
    previous = db.session.scalars(select(Wave).order_by(Wave.id.desc())).all()
    choices = [
        (str(w.id), _("As in %(title)s (version %(version)d)", title=w.title, version=w.questionnaire.version))
        for w in previous
    ]
    choices.append(("default", _("The platform's default questionnaire, latest version")))
    form = WaveForm(source_choices=choices)
    if form.validate_on_submit():
        source = None if form.source.data == "default" else db.session.get(Wave, int(form.source.data))
        try:
            wave = create_wave_from(form.slug.data, form.title.data, source, form.opens_on.data, form.closes_on.data)
        except PlatformError as exc:
            form.slug.errors.append(str(exc))
        else:
            db.session.commit()
            log.info("admin %s created wave %s", current_user.id, wave.slug)
            flash(
                _("The survey %(title)s is created as a draft. Open it when invitations may go out.", title=wave.title)
            )
            return redirect(url_for(".waves"), code=303)
    status = 200 if request.method == "GET" else form_status(form)
    return render_template("admin/wave_form.html", form=form), status


def _transition(wave_id: int, change) -> Wave:
    wave = _get_or_404(Wave, wave_id)
    try:
        change(wave, clock.now())
    except PlatformError as exc:
        abort(409, str(exc))
    except WaveStateError:
        abort(
            409,
            _(
                "The survey %(title)s is %(state)s: it cannot be changed that way.",
                title=wave.title,
                state=wave.state.label,
            ),
        )
    db.session.commit()
    log.info("admin %s moved wave %s to %s", current_user.id, wave.slug, wave.state.value)
    return wave


@bp.route("/waves/<id:wave_id>/edit", methods=["GET", "POST"])
@allow("admin")
def edit_wave(wave_id: int):
    """The title and dates, while the wave is not closed: extending the closing date keeps the links working."""
    wave = _get_or_404(Wave, wave_id)
    if wave.state is WaveState.CLOSED:
        abort(409, _("The survey %(title)s is closed: its dates can no longer be changed.", title=wave.title))
    form = WaveDatesForm(obj=wave)
    if form.validate_on_submit():
        wave.title, wave.opens_on, wave.closes_on = form.title.data, form.opens_on.data, form.closes_on.data
        db.session.commit()
        log.info("admin %s edited wave %s", current_user.id, wave.slug)
        flash(_("%(title)s is saved.", title=wave.title))
        return redirect(url_for(".waves"), code=303)
    status = 200 if request.method == "GET" else form_status(form)
    return render_template("admin/wave_edit.html", form=form, wave=wave), status


def _confirm(wave: Wave, action: str, form: ReopenForm | None = None, status: int = 200):
    """The page that says what opening, closing or reopening will do, with the button that does it (no script
    needed)."""
    drafts = db.session.scalar(
        select(func.count())
        .select_from(Draft)
        .join(Invitation, Invitation.id == Draft.invitation_id)
        .outerjoin(
            Response,
            (Response.organisation_id == Invitation.organisation_id) & (Response.wave_id == Invitation.wave_id),
        )
        .where(Invitation.wave_id == wave.id, Response.id.is_(None))
    )
    invited = db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.wave_id == wave.id))
    responses = db.session.scalar(select(func.count()).select_from(Response).where(Response.wave_id == wave.id))
    late = db.session.scalar(
        select(func.count())
        .select_from(Response)
        .where(Response.wave_id == wave.id, Response.reopening == wave.reopenings, Response.reopening > 0)
    )
    page = render_template(
        "admin/wave_confirm.html",
        wave=wave,
        action=action,
        drafts=drafts,
        invited=invited,
        responses=responses,
        late=late,
        form=form,
        k=current_app.config["MIN_CELL_SIZE"],
        today=clock.today(),
    )
    return page, status


@bp.route("/waves/<id:wave_id>/open", methods=["GET", "POST"])
@allow("admin")
def open_survey(wave_id: int):
    if request.method == "GET":
        return _confirm(_get_or_404(Wave, wave_id), "open")
    wave = _transition(wave_id, open_wave)
    flash(_("%(title)s is open for answers.", title=wave.title))
    return redirect(url_for(".waves"), code=303)


@bp.route("/waves/<id:wave_id>/close", methods=["GET", "POST"])
@allow("admin")
def close_survey(wave_id: int):
    if request.method == "GET":
        return _confirm(_get_or_404(Wave, wave_id), "close")
    wave = _transition(wave_id, close_wave)
    publish_results(wave)
    flash(_("%(title)s is closed: its invitation links no longer work.", title=wave.title))
    return redirect(url_for(".waves"), code=303)


@bp.route("/waves/<id:wave_id>/reopen", methods=["GET", "POST"])
@allow("admin")
def reopen_survey(wave_id: int):
    """Late answers after a close: the page names what reopening does, and asks for the new last day."""
    wave = _get_or_404(Wave, wave_id)
    if wave.state is not WaveState.CLOSED:
        abort(409, _("The survey %(title)s is not closed: there is nothing to reopen.", title=wave.title))
    form = ReopenForm(today=clock.today())
    if not form.validate_on_submit():
        return _confirm(wave, "reopen", form, 200 if request.method == "GET" else form_status(form))
    wave = _transition(wave_id, lambda wave, now: reopen_wave(wave, now, form.closes_on.data))
    flash(
        _(
            "%(title)s is open again until %(date)s for organisations that have not answered. Its results are "
            "withdrawn until it closes again.",
            title=wave.title,
            date=format_date(wave.closes_on, "long"),
        )
    )
    return redirect(url_for(".waves"), code=303)
