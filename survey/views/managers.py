"""Cluster managers' pages: their clusters' members, contacts, invitation links and e-mails, response status.

Every page is scoped to one cluster in the URL; a cluster the user does not manage answers 404 (admins may
use these pages for every cluster).
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from forms.members import (
    IMPORT_COLUMNS,
    ContactForm,
    ImportForm,
    LinksForm,
    MemberForm,
    NewMemberForm,
    SendForm,
    ecosystem_choices,
    parse_member_csv,
    size_choices,
    type_choices,
)
from forms.questionnaire import displayed_questionnaire, questionnaire_form
from forms.validators import form_status
from survey import clock
from survey.access import allow, cluster_or_404, visible_cluster_ids
from survey.download_request import audit
from survey.exports.files import csv_attachment
from survey.extensions import db
from survey.mail import Mailer, MailError, mail_configured
from survey.mail_texts import Composer, saved_text
from survey.models import Cluster, Contact, Invitation, MailKind, Organisation, Response, Wave, WaveState
from survey.operations.invitations import (
    InvitationError,
    check_wave_takes_invitations,
    invitation_link,
    issue_links,
    recipients_for,
    revoke_invitation,
    send_links,
)
from survey.operations.members import (
    MemberDetails,
    MemberError,
    add_member,
    import_members,
    remove_contact,
    update_member,
)
from survey.operations.setup import add_contact as store_contact
from survey.operations.setup import invite_organisation
from survey.queries.lookups import wave_or_404
from survey.queries.reminders import reminder_dates
from survey.queries.rosters import (
    Status,
    address_problems,
    cluster_members,
    lapsed_members,
    member_history,
    profile_changes,
    wave_roster,
)

log = logging.getLogger(__name__)

bp = Blueprint("manage", __name__, url_prefix="/manage")

MANAGERS = ("manager", "admin")


def _member_or_404(cluster: Cluster, org_id: int) -> Organisation:
    organisation = db.session.get(Organisation, org_id)
    if organisation is None or cluster not in organisation.clusters:
        abort(404)
    return organisation


def _waves() -> list[Wave]:
    """Waves are the admins' to prepare: managers see them once they have opened."""
    return list(db.session.scalars(select(Wave).where(Wave.visible_to_readers).order_by(Wave.id.desc())))


def _details(form: MemberForm) -> MemberDetails:
    return MemberDetails(form.name.data, form.country.data, form.org_type.data or None, form.size_class.data or None)


@bp.get("/")
@allow(*MANAGERS)
def index():
    visible = visible_cluster_ids()
    statement = select(Cluster).order_by(Cluster.name)
    if visible is not None:
        statement = statement.where(Cluster.id.in_(visible))
    return render_template("manage/index.html", clusters=db.session.scalars(statement).all())


@bp.get("/<cluster_slug>/")
@allow(*MANAGERS)
def cluster(cluster_slug: str):
    cluster = cluster_or_404(cluster_slug)
    types, sizes = dict(type_choices()), dict(size_choices())
    # Search and filters: a name part, a type, a size; values that are not offered are ignored.
    search = request.args.get("q", "").strip()[:200]
    org_type = request.args.get("type", "") if request.args.get("type", "") in types else ""
    size = request.args.get("size", "") if request.args.get("size", "") in sizes else ""
    statement = cluster_members(cluster)
    if search:
        statement = statement.where(func.lower(Organisation.name).contains(search.lower(), autoescape=True))
    if org_type:
        statement = statement.where(Organisation.org_type == org_type)
    if size:
        statement = statement.where(Organisation.size_class == size)
    total = db.session.scalar(select(func.count()).select_from(cluster_members(cluster).subquery()))
    return render_template(
        "manage/cluster.html",
        cluster=cluster,
        members=db.session.scalars(statement).all(),
        total=total,
        filters={"q": search, "type": org_type, "size": size},
        types=types,
        sizes=sizes,
        waves=_waves(),
        labels={**types, **sizes},
    )


@bp.route("/<cluster_slug>/members/new", methods=["GET", "POST"])
@allow(*MANAGERS)
def new_member(cluster_slug: str):
    cluster = cluster_or_404(cluster_slug)
    form = NewMemberForm(data=None if request.method == "POST" else {"country": cluster.country})
    if form.validate_on_submit():
        try:
            organisation = add_member(cluster, _details(form), visible_cluster_ids())
        except MemberError as exc:
            form.name.errors.append(str(exc))
        else:
            if form.contact_email.data:
                store_contact(organisation, form.contact_email.data, form.contact_name.data or "")
            db.session.commit()
            flash(_("%(name)s is now a member of %(cluster)s.", name=organisation.name, cluster=cluster.name))
            return redirect(url_for(".member", cluster_slug=cluster.slug, org_id=organisation.id), code=303)
    status = 200 if request.method == "GET" else form_status(form)
    return render_template("manage/member_form.html", cluster=cluster, form=form, organisation=None), status


@bp.route("/<cluster_slug>/members/import", methods=["GET", "POST"])
@allow(*MANAGERS)
def import_csv(cluster_slug: str):
    cluster = cluster_or_404(cluster_slug)
    form = ImportForm()
    row_errors = []
    if form.validate_on_submit():
        rows, row_errors = parse_member_csv(form.file.data.read())
        # Rows that read well may still clash with what is stored: try them too, to report every bad row at once.
        outcome = import_members(cluster, rows, visible_cluster_ids())
        if isinstance(outcome, list):
            row_errors = sorted(row_errors + outcome, key=lambda error: error.line)
        if row_errors:
            db.session.rollback()
        else:
            db.session.commit()
            log.info(
                "user %s imported members into cluster %s: %d new, %d updated, %d contacts",
                current_user.id,
                cluster.slug,
                outcome.created,
                outcome.updated,
                outcome.contacts,
            )
            flash(
                _(
                    "Imported: %(created)d new members, %(updated)d updated, %(contacts)d new contacts.",
                    created=outcome.created,
                    updated=outcome.updated,
                    contacts=outcome.contacts,
                )
            )
            return redirect(url_for(".cluster", cluster_slug=cluster.slug), code=303)
    status = 200 if request.method == "GET" else (422 if row_errors else form_status(form))
    return render_template(
        "manage/import.html",
        cluster=cluster,
        form=form,
        row_errors=row_errors,
        columns=IMPORT_COLUMNS,
        types=type_choices(),
        sizes=size_choices(),
    ), status


def _render_member(cluster: Cluster, organisation: Organisation, contact_form: ContactForm, status: int = 200):
    visible = visible_cluster_ids()
    return render_template(
        "manage/member.html",
        cluster=cluster,
        organisation=organisation,
        # Other clusters an organisation belongs to are not named to a manager who does not run them.
        clusters=[c for c in organisation.clusters if visible is None or c.id in visible],
        history=member_history(organisation),
        changes=profile_changes(organisation),
        contact_form=contact_form,
        labels=dict(type_choices() + size_choices() + ecosystem_choices()),
    ), status


@bp.get("/<cluster_slug>/members/<id:org_id>")
@allow(*MANAGERS)
def member(cluster_slug: str, org_id: int):
    cluster = cluster_or_404(cluster_slug)
    return _render_member(cluster, _member_or_404(cluster, org_id), ContactForm(formdata=None))


@bp.route("/<cluster_slug>/members/<id:org_id>/edit", methods=["GET", "POST"])
@allow(*MANAGERS)
def edit_member(cluster_slug: str, org_id: int):
    cluster = cluster_or_404(cluster_slug)
    organisation = _member_or_404(cluster, org_id)
    form = MemberForm(obj=organisation if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            update_member(organisation, _details(form))
        except MemberError as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The details of %(name)s are saved.", name=organisation.name))
            return redirect(url_for(".member", cluster_slug=cluster.slug, org_id=organisation.id), code=303)
    status = 200 if request.method == "GET" else form_status(form)
    return render_template("manage/member_form.html", cluster=cluster, form=form, organisation=organisation), status


@bp.post("/<cluster_slug>/members/<id:org_id>/contacts")
@allow(*MANAGERS)
def add_contact(cluster_slug: str, org_id: int):
    cluster = cluster_or_404(cluster_slug)
    organisation = _member_or_404(cluster, org_id)
    form = ContactForm()
    if not form.validate():
        return _render_member(cluster, organisation, form, form_status(form))
    store_contact(organisation, form.email.data, form.name.data or "")
    db.session.commit()
    flash(_("The contact person is added."))
    return redirect(url_for(".member", cluster_slug=cluster.slug, org_id=organisation.id), code=303)


@bp.post("/<cluster_slug>/members/<id:org_id>/contacts/<id:contact_id>/delete")
@allow(*MANAGERS)
def delete_contact(cluster_slug: str, org_id: int, contact_id: int):
    cluster = cluster_or_404(cluster_slug)
    organisation = _member_or_404(cluster, org_id)
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.organisation_id != organisation.id:
        abort(404)
    remove_contact(contact)
    db.session.commit()
    flash(_("The contact person's name and e-mail address are deleted."))
    return redirect(url_for(".member", cluster_slug=cluster.slug, org_id=organisation.id), code=303)


def _render_wave(cluster: Cluster, wave: Wave, links_form: LinksForm, send_form: SendForm, status: int = 200):
    roster = wave_roster(cluster, wave)
    previous, lapsed = lapsed_members(roster.members, wave)
    return render_template(
        "manage/wave.html",
        cluster=cluster,
        wave=wave,
        roster=roster,
        problems=address_problems([member.organisation for member in roster.members]),
        edited={kind.value: saved_text(cluster, wave, kind) is not None for kind in MailKind},
        reminders=reminder_dates(cluster, wave),
        previous=previous,
        lapsed=lapsed,
        last_published=db.session.scalars(Wave.with_results().limit(1)).first(),
        links_form=links_form,
        send_form=send_form,
        mail_configured=mail_configured(),
        open_for_invitations=wave.state is WaveState.OPEN,
    ), status


@bp.get("/<cluster_slug>/waves/<wave_slug>")
@allow(*MANAGERS)
def wave(cluster_slug: str, wave_slug: str):
    return _render_wave(
        cluster_or_404(cluster_slug), wave_or_404(wave_slug), LinksForm(formdata=None), SendForm(formdata=None)
    )


@bp.get("/<cluster_slug>/waves/<wave_slug>/preview")
@allow(*MANAGERS)
def preview(cluster_slug: str, wave_slug: str):
    """The questionnaire as the cluster's members see it, with nothing to send: a preview stores nothing."""
    cluster = cluster_or_404(cluster_slug)
    wave = wave_or_404(wave_slug)
    questionnaire = wave.questionnaire.parsed
    member = SimpleNamespace(name=_("your member organisation"), clusters=[cluster])
    return render_template(
        "respond/questionnaire.html",
        form=questionnaire_form(questionnaire)(formdata=None, meta={"csrf": False}),
        questionnaire=displayed_questionnaire(questionnaire),
        invitation=SimpleNamespace(wave=wave, organisation=member),
        source="new",
        saved=False,
        preview=True,
    )


@bp.post("/<cluster_slug>/waves/<wave_slug>/links")
@allow(*MANAGERS)
def download_links(cluster_slug: str, wave_slug: str):
    """Issue links and hand them over as a CSV for a mail merge, in this response: they are not kept readable."""
    cluster = cluster_or_404(cluster_slug)
    wave = wave_or_404(wave_slug)
    form = LinksForm()
    if not form.validate():
        return _render_wave(cluster, wave, form, SendForm(formdata=None), form_status(form))
    members = wave_roster(cluster, wave).members
    if form.members.data == "waiting":  # a mail merge of reminders: their links, the ones they already have
        members = [member for member in members if member.status is not Status.RESPONDED]
    try:
        issued = issue_links(wave, members, clock.now(), form.members.data == "missing")
    except InvitationError as exc:
        abort(409, str(exc))
    if not issued:
        flash(_("Every member already has a working link: no new links were made."))
        return redirect(url_for(".wave", cluster_slug=cluster.slug, wave_slug=wave.slug), code=303)
    rows = []
    for organisation, token in issued:
        link = invitation_link(token)
        # One row per contact person, as a mail merge wants; a member without contacts still gets its row.
        for contact in organisation.contacts or [None]:
            rows.append([organisation.name, contact.name if contact else "", contact.email if contact else "", link])
    # Names, e-mail addresses and secret links: recorded as every download is (and committed with the links).
    audit("invitation-links.csv", wave.slug, {"cluster": [cluster.slug], "members": [str(form.members.data)]})
    log.info(
        "user %s downloaded %d new invitation links for cluster %s, wave %s",
        current_user.id,
        len(issued),
        cluster.slug,
        wave.slug,
    )
    filename = f"invitation-links-{cluster.slug}-{wave.slug}-{clock.today().isoformat()}.csv"
    return csv_attachment(["organisation", "contact_name", "contact_email", "link"], rows, filename)


@bp.get("/<cluster_slug>/waves/<wave_slug>/members/<id:org_id>/<any(replace, revoke):action>")
@allow(*MANAGERS)
def confirm_link(cluster_slug: str, wave_slug: str, org_id: int, action: str):
    """Before a link is retired: what replacing or revoking it does, and the button that does it (no script)."""
    cluster = cluster_or_404(cluster_slug)
    wave = wave_or_404(wave_slug)
    organisation = _member_or_404(cluster, org_id)
    answered = db.session.scalar(
        select(func.count()).select_from(Response).filter_by(wave_id=wave.id, organisation_id=organisation.id)
    )
    return render_template(
        "manage/link_confirm.html", cluster=cluster, wave=wave, organisation=organisation, action=action,
        answered=bool(answered),
    )  # fmt: skip


@bp.post("/<cluster_slug>/waves/<wave_slug>/members/<id:org_id>/link")
@allow(*MANAGERS)
def issue_link(cluster_slug: str, wave_slug: str, org_id: int):
    cluster = cluster_or_404(cluster_slug)
    wave = wave_or_404(wave_slug)
    organisation = _member_or_404(cluster, org_id)
    try:
        check_wave_takes_invitations(wave)
    except InvitationError as exc:
        abort(409, str(exc))
    new_link = request.form.get("new") == "1"  # retiring the current link is an explicit act
    _invitation, token = invite_organisation(wave, organisation, clock.now(), new_link=new_link)
    db.session.commit()
    log.info(
        "user %s %s the invitation link of organisation %s, wave %s",
        current_user.id,
        "replaced" if new_link else "was shown",
        organisation.id,
        wave.slug,
    )
    return render_template(
        "manage/link_issued.html",
        cluster=cluster,
        wave=wave,
        organisation=organisation,
        link=invitation_link(token),
        new_link=new_link,
    )


@bp.post("/<cluster_slug>/waves/<wave_slug>/members/<id:org_id>/revoke")
@allow(*MANAGERS)
def revoke(cluster_slug: str, wave_slug: str, org_id: int):
    cluster = cluster_or_404(cluster_slug)
    wave = wave_or_404(wave_slug)
    organisation = _member_or_404(cluster, org_id)
    invitation = db.session.scalars(
        select(Invitation).filter_by(wave_id=wave.id, organisation_id=organisation.id)
    ).one_or_none()
    if invitation is None:
        abort(404)
    if invitation.revoked_at is None:
        revoke_invitation(invitation, clock.now())
        db.session.commit()
    flash(_("The link of %(name)s no longer works. Answers already given are kept.", name=organisation.name))
    return redirect(url_for(".wave", cluster_slug=cluster.slug, wave_slug=wave.slug), code=303)


@bp.post("/<cluster_slug>/waves/<wave_slug>/send")
@allow(*MANAGERS)
def send(cluster_slug: str, wave_slug: str):
    cluster = cluster_or_404(cluster_slug)
    wave = wave_or_404(wave_slug)
    form = SendForm()
    if not form.validate():
        return _render_wave(cluster, wave, LinksForm(formdata=None), form, form_status(form))
    if not mail_configured():
        abort(409, _("E-mail is not set up on this platform. Download the links for a mail merge instead."))
    kind = MailKind(form.kind.data)
    members = recipients_for(kind, wave_roster(cluster, wave).members)
    if not members:
        flash(
            _(
                "Nobody to send to: every member either has no contact person, has answered, or was already "
                "sent this kind of message."
            )
        )
        return redirect(url_for(".wave", cluster_slug=cluster.slug, wave_slug=wave.slug), code=303)

    compose = Composer(cluster, wave, kind)  # the cluster's own text for the wave, or the default
    if form.confirmed.data != "1":  # the preview: what would go out, to how many, and the button that sends
        first = members[0]
        sample = compose(first.organisation.contacts[0], first.organisation, "")
        addresses = sum(len(member.organisation.contacts) for member in members)
        return render_template(
            "manage/send_confirm.html",
            cluster=cluster,
            wave=wave,
            form=form,
            members=members,
            addresses=addresses,
            sample=sample,
        )
    try:
        with Mailer() as mailer:
            result = send_links(wave, members, kind, compose, mailer, clock.now())
    except InvitationError as exc:
        abort(409, str(exc))
    except MailError:
        abort(502, _("The mail server could not be reached. Nothing was sent; please try again later."))
    db.session.commit()
    log.info(
        "user %s sent %s e-mails for cluster %s, wave %s: %d members reached, %d failed",
        current_user.id,
        kind.value,
        cluster.slug,
        wave.slug,
        len(result.sent),
        len(result.failed),
    )
    flash(_("Sent to %(sent)d members.", sent=len(result.sent)))
    if result.failed:
        flash(
            _(
                "The mail server refused the messages to %(names)s; their links are unchanged. Check their "
                "addresses and try again.",
                names=", ".join(o.name for o in result.failed),
            )
        )
    return redirect(url_for(".wave", cluster_slug=cluster.slug, wave_slug=wave.slug), code=303)
