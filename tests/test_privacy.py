"""Personal data and secrets stay where they belong (security requirements 16 and 17)."""

from __future__ import annotations

import contextlib
import logging
import threading
import urllib.error
import urllib.request

import pytest
from sqlalchemy import inspect, select, text
from werkzeug.serving import make_server

from survey.extensions import db
from survey.models import Invitation

# The dialect matters here: run on PostgreSQL too (tests/conftest.py).
pytestmark = pytest.mark.both_databases


def test_a_token_is_not_in_the_database(app, invited):
    assert db.session.scalars(select(Invitation.token_hash)).one() != invited.token
    dump = "\n".join(
        str(row)
        for table in db.metadata.sorted_tables
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}"'))
    )
    assert invited.token not in dump


def test_response_tables_hold_no_personal_data_columns(app):
    inspector = inspect(db.engine)
    for table in ("response", "response_cluster", "draft", "tally"):
        columns = {column["name"] for column in inspector.get_columns(table)}
        assert not columns & {"email", "name", "contact_id", "phone"}, table


def test_access_log_lines_never_carry_the_token(app, invited, caplog):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for path in (invited.url, invited.url + "/submitted", "/r/unknown-token-123"):
                with contextlib.suppress(urllib.error.HTTPError):
                    urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{path}")
    finally:
        server.shutdown()
        thread.join()
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert len(lines) == 4  # the third request follows a redirect
    assert all("/r/[token]" in line for line in lines)
    assert not any(invited.token in line or "unknown-token-123" in line for line in lines)
