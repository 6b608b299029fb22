"""The JSON API (version 1), one blueprint under /api/v1: surveys, the questionnaire, adoption and challenges
(the numbers behind the report pages), response status per cluster, submitting answers with an invitation
token, and the OpenAPI document (survey/openapi.py). See docs/reports.md for the formats.

Reading endpoints use personal API tokens (or a logged-in session) and the report pages' scope and suppression.
`POST /surveys/<slug>/responses` is public at the access layer: its credential is the invitation token in the
Authorization header, checked here; a session cookie or a personal API token alone never submits anything.
Errors are JSON (survey/errors.py); a 400 names the parameter and lists the values it allows.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from forms.questionnaire import questionnaire_form
from reports import results
from reports.aggregate import group_sizes
from reports.dimensions import InvalidQuery, parse_api_query
from survey import clock
from survey.access import allow, public, visible_cluster_ids
from survey.cache import cached_invitations, cached_survey, report_cache
from survey.database import report_connection
from survey.download_request import user_key
from survey.extensions import db, limiter
from survey.models import Role, Wave
from survey.openapi import SUBMISSION_SECTIONS, document
from survey.operations.responses import (
    AnswersLocked,
    LinkExpired,
    LinkNotFound,
    find_invitation,
    new_edit_key,
    submit_response,
)
from survey.queries.lookups import wave_or_404
from survey.report_request import READERS, not_yet_published, refuse_hidden_clusters

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Reads are limited per user (API token or session); the submission endpoint has its own limit below.
limiter.limit(
    lambda: current_app.config["API_READ_RATE_LIMIT"],
    methods=["GET"],
    key_func=user_key,
    error_message=lambda: "too many requests: wait a minute and try again",
)(bp)


def _report_or_404(slug: str):
    """The wave as reports see it, with the reader's cluster scope checked against the query."""
    report = cached_survey(report_connection(), slug, published_only=True)
    if report is None:
        abort(404, "results are published when the wave closes" if not_yet_published(slug) else "no such survey")
    refuse_hidden_clusters(report, visible_cluster_ids())
    return report


def _invalid(error: InvalidQuery):
    return jsonify({"error": error.message, "parameter": error.parameter, "allowed": error.allowed, "status": 400}), 400


def _survey_json(wave: Wave) -> dict[str, Any]:
    return {
        "slug": wave.slug,
        "title": wave.title,
        "state": wave.state.value,
        "opens_on": wave.opens_on.isoformat() if wave.opens_on else None,
        "closes_on": wave.closes_on.isoformat() if wave.closes_on else None,
        "questionnaire": {"code": wave.questionnaire.code, "version": wave.questionnaire.version},
    }


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(document())


@bp.get("/surveys")
@allow(*READERS)
def surveys():
    """Survey waves that have been opened (drafts are not shown), newest first."""
    waves = db.session.scalars(select(Wave).where(Wave.visible_to_readers).order_by(Wave.id.desc())).all()
    return jsonify({"surveys": [_survey_json(wave) for wave in waves]})


@bp.get("/surveys/<slug>")
@allow(*READERS)
def survey(slug: str):
    return jsonify(_survey_json(wave_or_404(slug)))


@bp.get("/surveys/<slug>/questionnaire")
@allow(*READERS)
def questionnaire(slug: str):
    """The questionnaire document of the wave: sections, items, codes and answer codes."""
    wave = wave_or_404(slug)
    return jsonify({"survey": wave.slug, "document": wave.questionnaire.document})


@bp.get("/surveys/<slug>/adoption")
@allow(*READERS)
def adoption(slug: str):
    conn = report_connection()
    survey = _report_or_404(slug)
    visible = visible_cluster_ids()
    try:
        query = parse_api_query(request.args.to_dict(flat=False), survey, visible)
    except InvalidQuery as error:
        return _invalid(error)
    k = current_app.config["MIN_CELL_SIZE"]
    rows = report_cache().get_or_compute(
        "api-adoption",
        query.wave_ids,
        (survey.slug, query, k, None if visible is None else tuple(sorted(visible))),
        lambda: results.api_rows(results.adoption(conn, survey, query, k), query.by),
    )
    return jsonify({"survey": survey.slug, "min_cell": k, "by": query.by, "rows": rows})


@bp.get("/surveys/<slug>/challenges")
@allow(*READERS)
def challenges(slug: str):
    """The pandemic challenges by importance, with the same `by` and filters as adoption."""
    conn = report_connection()
    report = _report_or_404(slug)
    try:
        query = parse_api_query(request.args.to_dict(flat=False), report, visible_cluster_ids())
    except InvalidQuery as error:
        return _invalid(error)
    k = current_app.config["MIN_CELL_SIZE"]
    codes = [str(option.key) for option in report.challenge_scale]
    rows = results.api_challenge_rows(results.challenges(conn, report, query, k), query.by, codes)
    return jsonify({"survey": report.slug, "min_cell": k, "by": query.by, "rows": rows})


@bp.get("/surveys/<slug>/status")
@allow(Role.MANAGER, Role.ADMIN)
def status(slug: str):
    """Invitations and responses per cluster, for running the survey: managers their clusters, admins all."""
    wave = wave_or_404(slug)
    if request.args:
        abort(400, "this endpoint takes no parameters")
    conn = report_connection()
    invited, invited_total = cached_invitations(conn, wave.id)
    sizes = group_sizes(conn, (wave.id,), (), "cluster")
    answered = {int(row.group): int(row.n) for row in sizes.itertuples()}
    total = int(group_sizes(conn, (wave.id,))["n"].sum())
    visible = visible_cluster_ids()
    report = cached_survey(conn, slug)  # the clusters' names (status is for running a wave, open or not)
    clusters = []
    for option in report.options.get("cluster", ()) if report else ():
        cluster_id = int(option.key)
        if visible is not None and cluster_id not in visible:
            continue
        if not invited.get(cluster_id) and not answered.get(cluster_id):
            continue
        clusters.append(
            {
                "cluster": option.value,
                "name": option.label,
                "invited": invited.get(cluster_id, 0),
                "responses": answered.get(cluster_id, 0),
            }
        )
    body: dict[str, Any] = {"survey": wave.slug, "state": wave.state.value, "clusters": clusters}
    if visible is None:
        body["total"] = {"invited": invited_total, "responses": total}
    return jsonify(body)


def _gone(gone: LinkExpired) -> str:
    """Why this invitation takes no answers, with the day that matters."""
    wave = gone.invitation.wave if gone.invitation is not None else None
    if gone.reason == "replaced":
        return "this invitation link was replaced by a newer one: ask the cluster organisation for it"
    if gone.reason == "revoked":
        return "this invitation link was withdrawn: ask the cluster organisation for a new one"
    if gone.reason == "counted":
        return (
            "the survey wave was reopened for organisations that had not answered: your answers were counted at "
            "its close and can no longer be changed"
        )
    if wave is not None and gone.reason == "not_yet" and wave.opens_on:
        return f"the survey wave opens on {wave.opens_on.isoformat()}"
    if wave is not None and gone.reason == "closed" and wave.closed_on():
        return f"the survey wave closed on {wave.closed_on().isoformat()}: answers are no longer accepted"
    return "the survey wave does not take answers"


def _submit_limit() -> str:
    return current_app.config.get("API_SUBMIT_RATE_LIMIT", "30 per minute")


def _bad_request(message: str):
    return jsonify({"error": message, "status": 400}), 400


def _formdata(body: Any, questionnaire) -> tuple[MultiDict | None, dict[str, list[str]], str | None]:
    """The JSON body as the questionnaire form's data: (form data, per-field errors, malformed-body message)."""
    if not isinstance(body, dict):
        return None, {}, "the body must be a JSON object"
    body = dict(body)
    confirmed = body.pop("confirm_unusual", False)
    if not isinstance(confirmed, bool):
        return None, {}, "confirm_unusual: must be true or false"
    unknown = set(body) - set(SUBMISSION_SECTIONS)
    if unknown:
        return None, {}, f"unknown sections: {', '.join(sorted(map(str, unknown)))[:200]}"
    data: MultiDict = MultiDict()
    if confirmed:
        data.add("confirm_unusual", "y")
    errors: dict[str, list[str]] = {}
    for section_code, section_body in body.items():
        if not isinstance(section_body, dict):
            return None, {}, f"{section_code}: must be an object of item codes"
        section = questionnaire.section(SUBMISSION_SECTIONS[section_code])
        codes = {item.code for item in section.items}
        for code, value in section_body.items():
            if code not in codes:
                errors[f"{section_code}.{code}"[:100]] = ["not an item of this section"]
                continue
            values = value if isinstance(value, list) else [value]
            for one in values:
                if isinstance(one, bool) or not isinstance(one, str | int | float | type(None)):
                    return None, {}, f"{section_code}.{code}: answers are codes, numbers or text"
                if one is not None:
                    data.add(code, str(one))
    return data, errors, None


@bp.post("/surveys/<slug>/responses")
@public
@limiter.limit(_submit_limit)
def submit(slug: str):
    """Submit an organisation's answers with its invitation token: the same checks as the questionnaire form."""
    wave_or_404(slug)
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        response = jsonify({"error": "send the invitation token as Authorization: Bearer <token>", "status": 401})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="responses"'
        return response
    try:
        invitation = find_invitation(token if len(token) <= 200 else "", clock.today())
    except LinkNotFound:
        abort(404, "unknown invitation token")
    except LinkExpired as gone:
        abort(410, _gone(gone))
    if invitation.wave.slug != slug:
        abort(404, "unknown invitation token")
    questionnaire = invitation.wave.questionnaire.parsed
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # not a ValueError, so `silent` lets it through
        return _bad_request("the JSON body is nested too deeply")
    data, errors, malformed = _formdata(body, questionnaire)
    if malformed:
        return _bad_request(malformed)
    form = questionnaire_form(questionnaire)(formdata=data, meta={"csrf": False})
    form.submitting = True
    if not form.validate() or errors:
        section_of = {item.code: item.section for item in questionnaire.items.values()}
        for code, messages in form.errors.items():
            errors[f"{section_of.get(code, code)}.{code}"] = [str(message) for message in messages]
        if not errors and form.warnings:
            warnings: dict[str, list[str]] = {}
            for code, message in form.warnings:
                warnings.setdefault(f"{section_of[code]}.{code}", []).append(message)
            message = "some figures are unusual: check them, and send them again with confirm_unusual: true"
            return jsonify({"error": message, "status": 422, "errors": {}, "warnings": warnings}), 422
        return jsonify({"error": "some answers are missing or not valid", "status": 422, "errors": errors}), 422
    given_key = request.headers.get("X-Edit-Key", "")[:200] or None
    key = given_key or new_edit_key()
    try:
        response, created = submit_response(invitation, form.values(), clock.now(), key)
    except LinkExpired as gone:  # the wave closed while this was on its way
        db.session.rollback()
        abort(410, _gone(LinkExpired(gone.reason, invitation)))
    except AnswersLocked:
        db.session.rollback()
        abort(409, "answers were submitted already: send the edit_key given then as X-Edit-Key to replace them")
    db.session.commit()
    body = {
        "survey": slug,
        "status": "created" if created else "replaced",
        "submitted_at": response.updated_at.isoformat(timespec="seconds"),
    }
    if created:
        body["edit_key"] = key  # given once: the only way to replace these answers later
    return jsonify(body), 201 if created else 200
