"""Error pages: a clear message and the right status, never a traceback. Under /api/ errors are JSON
(`{"error": …, "status": …}`, as the OpenAPI document says), whatever raised them: an unknown URL, a method
not allowed (with its Allow header), a view's abort, a failure of ours or of the database."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from survey.access import is_api_request
from survey.extensions import db

log = logging.getLogger(__name__)

_TITLES = {
    400: _l("The request could not be understood"),
    401: _l("Please log in"),
    403: _l("You may not see this page"),
    404: _l("Page not found"),
    405: _l("This action is not allowed here"),
    410: _l("This link has expired"),
    413: _l("Too much data was sent"),
    422: _l("Some answers need attention"),
    429: _l("Too many requests"),
    500: _l("Something went wrong on our side"),
    503: _l("The service is briefly unavailable"),
}


def _render(status: int, message: str | None = None, **context):
    if is_api_request():
        return jsonify({"error": message or _ENGLISH.get(status, "Error"), "status": status}), status
    title = _TITLES.get(status) or _("Error")
    return render_template("errors/error.html", status=status, title=title, message=message, **context), status


#: What an API error says when its view gave no message of its own: the status's standard phrase.
_ENGLISH = {status: HTTP_STATUS_CODES[status] for status in _TITLES}


def _http_error(error: HTTPException):
    # Show a description only when a view gave one of its own; Werkzeug's defaults are written for developers.
    custom = error.description if error.description != type(error).description else None
    body, status = _render(error.code or 500, custom)
    # Keep the exception's own headers: Allow on a 405, Retry-After on a 429, WWW-Authenticate on a 401.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    return body, status, headers


def _database_unavailable(error: DBAPIError):
    # The database is down or unreachable: say so, ask to retry, and hand a respondent's answers back in a form
    # that posts them again, so nothing typed is lost. pool_pre_ping reconnects once it is back.
    log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else type(error).__name__)
    db.session.rollback()
    resend = _resend(request.form) if request.method == "POST" and request.blueprint != "auth" else None
    body, status = _render(503, resend=resend)
    return body, status, {"Retry-After": "30"}


def _resend(form: MultiDict) -> MultiDict:
    """What the 503 page posts again: every field but passwords, which would otherwise sit in the page's HTML
    (and the browser's copy of it). The log-in and account forms (blueprint "auth") are never sent back."""
    return MultiDict([(name, value) for name, value in form.items(multi=True) if "password" not in name.lower()])


def _internal_error(error: Exception):
    log.exception("unhandled error on %s %s", request.method, request.endpoint)
    db.session.rollback()
    return _render(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(Exception, _internal_error)
