"""The JSON API (version 1): the numbers behind the report pages, for other tools.

GET /api/v1/surveys/<slug>/adoption?by=<group>&<filters> — see docs/reports.md for the format.
Errors are JSON too: a 400 names the parameter and lists the values it allows.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from reports import results
from reports.dimensions import InvalidQuery, parse_api_query
from survey.access import allow, visible_cluster_ids
from survey.cache import cached_survey, report_cache
from survey.database import report_connection
from survey.views.reports import READERS, refuse_hidden_clusters

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(HTTPException)
def _json_error(error: HTTPException):
    custom = error.description if error.description != type(error).description else None
    return jsonify({"error": custom or error.name, "status": error.code}), error.code


@bp.get("/surveys/<slug>/adoption")
@allow(*READERS)
def adoption(slug: str):
    conn = report_connection()
    survey = cached_survey(conn, slug)
    if survey is None:
        abort(404, f"no survey {slug!r}" if len(slug) <= 64 else "no such survey")
    visible = visible_cluster_ids()
    refuse_hidden_clusters(survey, visible)
    try:
        query = parse_api_query(request.args.to_dict(flat=False), survey, visible)
    except InvalidQuery as error:
        return jsonify({"error": error.message, "parameter": error.parameter, "allowed": error.allowed}), 400
    k = current_app.config["MIN_CELL_SIZE"]
    rows = report_cache().get_or_compute(
        "api-adoption", query.wave_ids, (survey.slug, query, k, None if visible is None else tuple(sorted(visible))),
        lambda: results.api_rows(results.adoption(conn, survey, query, k), query.by))
    return jsonify({"survey": survey.slug, "min_cell": k, "by": query.by, "rows": rows})
