"""GET /healthz for load balancers and orchestrators: 200 when this server can reach its database, else 503.

Public and cheap (one `SELECT 1`); it says nothing about the data. Redis is left out on purpose: an outage of
the one shared Redis affects every app server alike, and taking them all out of the load balancer would not help.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from survey.access import public
from survey.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("health check: database unreachable")
        db.session.rollback()
        return jsonify(status="unavailable", database=False), 503
    return jsonify(status="ok", database=True)
