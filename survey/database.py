"""Database connection settings that SQLAlchemy does not make by itself, and where reports read from.

Importing this module is enough for the settings: the listener applies to every engine the app creates.
"""

from __future__ import annotations

import sqlite3

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

from survey import models  # noqa: F401  (registers every table on the metadata)
from survey.extensions import db


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # WAL lets reports read while a submission writes; the busy timeout makes concurrent submitters wait
    # their turn for the write lock instead of failing; SQLite enforces foreign keys only when asked.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def report_connection() -> Connection:
    """The connection report pages, charts, downloads and the report API read through.

    With REPORTS_DATABASE_URL set, that is a read replica (one connection per request, closed at its end), so that
    report traffic does not compete with submissions on the primary; otherwise the request's own session. Only
    reads may go through it. Results stay fresh because the replica applies each submission before the primary
    confirms its commit (`synchronous_commit = remote_apply`, see docs/deploy.md), which is before the report
    cache's version moves.
    """
    replica: Engine | None = current_app.extensions["report_engine"]
    if replica is None:
        return db.session.connection()
    if "report_connection" not in g:
        g.report_connection = replica.connect()
    return g.report_connection


def init_app(app: Flask) -> None:
    url = app.config.get("REPORTS_DATABASE_URI")
    # An engine of our own rather than a Flask-SQLAlchemy bind: no model belongs to the replica, and binds would
    # give every table a second metadata that `create_all` and migrations would then try to build there.
    app.extensions["report_engine"] = create_engine(url, pool_pre_ping=True, hide_parameters=True) if url else None

    @app.teardown_appcontext
    def _close_report_connection(_error: BaseException | None) -> None:
        connection = g.pop("report_connection", None)
        if connection is not None:
            connection.close()
