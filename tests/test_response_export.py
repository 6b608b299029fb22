"""The admins' full response export (responses.csv), byte for byte, on both databases.

On PostgreSQL the CSV is written by the database (COPY), elsewhere by Python (survey/exports/responses.py). Both
must give exactly the bytes of `expected_csv` below, a slow, plain restatement of the format built from the ORM:
pseudonyms, spreadsheet-safe text, clusters in id order, ticked codes joined with ';', timestamps to the second.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta

import psycopg
import pytest
from sqlalchemy import func, select, text, update

from survey import clock
from survey.exports import responses
from survey.exports.files import spreadsheet_safe
from survey.extensions import db
from survey.models import Response, Wave
from survey.operations.setup import create_wave, load_questionnaire
from survey.questionnaire import PROFILE_SECTION, parse
from tests.conftest import BACKENDS

# The dialect matters here: run on PostgreSQL too (tests/conftest.py).
pytestmark = pytest.mark.both_databases

ON_POSTGRESQL = pytest.mark.parametrize("backend", [BACKENDS[1]], indirect=True)

#: Typed text as people type it: formulas, line breaks of every kind, CSV's own characters, non-ASCII text,
#: and strings that mean something to COPY or to a CSV reader.
COMMENTS = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\tindented",
    "\r\nstarts with a line break",
    "\nstarts with a newline",
    "line one\r\nline two",
    "line one\nline two",
    "a lone\rcarriage return",
    'a, b and "c"',
    '"quoted"',
    "Ünïcödé – 中文 – 🙂",
    "'already quoted",
    "ends with a newline\n",
    " leading space",
    "\\.",
    "\\N",
    "NULL",
    "",
    None,
]


def _answers(questionnaire, **overrides) -> dict[str, object]:
    """A complete answers document (first choice, 42 employees, two ticked codes), then the overrides."""
    answers: dict[str, object] = {}
    for item in questionnaire.items.values():
        if item.section == PROFILE_SECTION:
            continue
        if item.type == "multi":
            answers[item.code] = [choice.code for choice in item.choices[:2]]
        elif item.type == "integer":
            answers[item.code] = 42
        elif item.type in {"text", "textarea"}:
            answers[item.code] = "All fine."
        else:
            answers[item.code] = item.choices[0].code
    answers.update(overrides)
    return answers


@pytest.fixture
def tricky(make_cluster, make_invited, open_wave) -> Wave:
    """The open wave with a response per tricky comment, plus responses in several clusters, with odd regions,
    multi answers and missing answers; and an earlier wave whose responses must not appear."""
    zeta, formula, alpha = make_cluster("zeta"), make_cluster("=cmd|' /C calc'!A0"), make_cluster("alpha")
    questionnaire = open_wave.questionnaire.parsed
    multi = next(item for item in questionnaire.items.values() if item.type == "multi")
    stamp = datetime(2021, 3, 1, 12, 0, 59, 999_999)  # seconds are cut, not rounded
    earlier = create_wave(
        "wave-2019",
        "Survey 2019",
        load_questionnaire(),
        clock.today() - timedelta(days=900),
        clock.today() - timedelta(days=800),
    )

    def respond(clusters, wave=open_wave, region="ES21", **overrides) -> Response:
        invited = make_invited(clusters=clusters, wave=wave)
        response = Response(
            wave_id=wave.id,
            organisation_id=invited.organisation.id,
            country="ES",
            region=region,
            org_type="sme",
            size_class="small",
            ecosystem="digital",
            answers=_answers(questionnaire, **overrides),
            submitted_at=stamp,
            updated_at=stamp + timedelta(days=40, microseconds=1),
            clusters=clusters,
        )
        db.session.add(response)
        db.session.flush()
        return response

    for comment in COMMENTS:
        respond([zeta], comments=comment)
    respond([alpha, zeta])  # clusters in id order: zeta;alpha
    respond([formula, zeta, alpha])
    respond([], region=None)
    respond([alpha], region="-2+3")
    respond([alpha], region="=A1", **{multi.code: []})
    respond([zeta], **{multi.code: [choice.code for choice in reversed(multi.choices)]})  # stored order kept
    respond([zeta], **{multi.code: multi.choices[0].code})  # not a list: written as it is
    respond([zeta], employees_now=-5, employees_12m_ago=0)
    bare = respond([alpha])
    bare.answers = {"comments": "only this"}  # every other answer missing
    respond([zeta], wave=earlier, comments="=from the earlier wave")
    db.session.commit()
    return open_wave


def _cell(value: object) -> str:
    """A CSV cell as RFC 4180 writes it: in quotes (doubled inside) when it holds a comma, quote, CR or LF."""
    value = "" if value is None else str(value)
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def expected_csv(wave: Wave, secret: bytes) -> bytes:
    """The export as it should be, from the ORM objects, a cell at a time."""
    questionnaire = wave.questionnaire.parsed
    items = [item for item in questionnaire.items.values() if item.section != PROFILE_SECTION]
    lines = [responses.header(questionnaire)]
    for response in db.session.scalars(select(Response).filter_by(wave_id=wave.id).order_by(Response.id)):
        row = [
            response.id,
            responses.pseudonym(secret, response.organisation_id),
            wave.slug,
            response.submitted_at.isoformat(timespec="seconds"),
            response.updated_at.isoformat(timespec="seconds"),
            response.country,
            spreadsheet_safe(response.region),
            response.org_type,
            response.size_class,
            response.ecosystem,
            ";".join(spreadsheet_safe(cluster.slug) for cluster in sorted(response.clusters, key=lambda c: c.id)),
        ]
        for item in items:
            value = response.answers.get(item.code)
            if item.type == "multi" and isinstance(value, list):
                value = ";".join(value)
            elif item.type in {"text", "textarea"}:
                value = spreadsheet_safe(value)
            row.append(value)
        lines.append(row)
    return ("\ufeff" + "".join(",".join(map(_cell, row)) + "\n" for row in lines)).encode("utf-8")


@pytest.fixture
def admin(make_user, quick_client_for):
    return quick_client_for(make_user("admin@example.org", "admin"))


def _secret(app) -> bytes:
    return str(app.config["SECRET_KEY"]).encode()


def test_the_download_is_the_expected_csv_byte_for_byte(app, admin, tricky, backend):
    """On each database (COPY on PostgreSQL, Python on SQLite) the file is exactly the expected bytes."""
    response = admin.get(f"/reports/{tricky.slug}/responses.csv")
    assert response.status_code == 200 and response.is_streamed and response.mimetype == "text/csv"
    body = response.get_data()
    assert body == expected_csv(tricky, _secret(app))
    # What a spreadsheet program or csv reader sees: every comment back, made safe, one row per response.
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(COMMENTS) + 9
    assert [row["comments"] for row in rows[: len(COMMENTS)]] == [spreadsheet_safe(c) or "" for c in COMMENTS]
    assert rows[0]["comments"].startswith("'=") and rows[4]["comments"] == "'\tindented"
    assert {row["clusters"] for row in rows} >= {"zeta;alpha", "zeta;'=cmd|' /C calc'!A0;alpha", ""}
    assert {row["region"] for row in rows} >= {"'-2+3", "'=A1", ""}
    assert rows[0]["submitted_at"] == "2021-03-01T12:00:59" and rows[0]["updated_at"] == "2021-04-10T12:01:00"
    assert "=from the earlier wave" not in body.decode()


@ON_POSTGRESQL
def test_copy_gives_the_python_paths_bytes_on_the_same_database(app, tricky, monkeypatch):
    """The two ways of writing the export, on one PostgreSQL database, give identical bytes, whatever the
    chunk and batch sizes (a lone CR in a batch makes the Python path rewrite that batch)."""
    questionnaire, secret = tricky.questionnaire.parsed, _secret(app)
    head = responses.header(questionnaire)
    python = b"".join(
        responses.csv_chunks(
            responses.response_rows(db.session, tricky.id, tricky.slug, questionnaire, secret), head, batch=3
        )
    )
    monkeypatch.setattr(responses, "COPY_CHUNK", 1000)
    chunks = list(responses.copy_chunks(db.session, tricky.id, tricky.slug, questionnaire, secret, head))
    assert len(chunks) > 3, "COPY output is passed on in chunks, not collected"
    assert b"".join(chunks) == python == expected_csv(tricky, secret)


@ON_POSTGRESQL
@pytest.mark.parametrize("slice_rows", [1, 4, 7, 1000])
def test_the_export_in_slices_is_the_same_file(app, tricky, monkeypatch, slice_rows):
    """Cut into slices written by two connections in turn, the file is still every response once, in order."""
    monkeypatch.setattr(responses, "SLICE_ROWS", slice_rows)
    monkeypatch.setattr(responses, "COPY_CHUNK", 100)
    monkeypatch.setattr(responses, "AHEAD", 1)
    questionnaire, secret = tricky.questionnaire.parsed, _secret(app)
    head = responses.header(questionnaire)
    body = b"".join(responses.copy_chunks(db.session, tricky.id, tricky.slug, questionnaire, secret, head))
    assert body == expected_csv(tricky, secret)


def _small_slices(monkeypatch, rows: int = 2) -> None:
    """Many slices, and writers that can hold one small chunk each: they take turns from the start."""
    monkeypatch.setattr(responses, "SLICE_ROWS", rows)
    monkeypatch.setattr(responses, "COPY_CHUNK", 100)
    monkeypatch.setattr(responses, "AHEAD", 1)


def _copy(app, wave) -> Iterator[bytes]:
    questionnaire = wave.questionnaire.parsed
    return responses.copy_chunks(
        db.session, wave.id, wave.slug, questionnaire, _secret(app), responses.header(questionnaire)
    )


def _writers() -> set[str]:
    return {thread.name for thread in threading.enumerate() if thread.name.startswith("export-writer")}


def _export_noting_writers(app, wave) -> tuple[bytes, set[str]]:
    """The whole file, and the writer threads at work once it had started."""
    with closing(_copy(app, wave)) as chunks:
        started = [next(chunks), next(chunks)]
        writers = _writers()
        return b"".join([*started, *chunks]), writers


@ON_POSTGRESQL
def test_the_export_is_the_wave_at_one_moment(app, tricky, monkeypatch):
    """Answers changed after the file started do not show in it: every slice, whichever connection writes it,
    reads the snapshot the first one took, as a single COPY would."""
    _small_slices(monkeypatch)
    expected = expected_csv(tricky, _secret(app))
    db.session.commit()
    join = responses._join_snapshot

    def join_after_a_change(driver, snapshot):
        # Committed after the first connection's snapshot and before the second connection's transaction.
        with db.engine.begin() as conn:
            conn.execute(
                update(Response).where(Response.wave_id == tricky.id).values(answers={"comments": "changed meanwhile"})
            )
        return join(driver, snapshot)

    monkeypatch.setattr(responses, "_join_snapshot", join_after_a_change)
    body, writers = _export_noting_writers(app, tricky)
    assert writers == {"export-writer-0", "export-writer-1"}
    assert b"changed meanwhile" not in body and body == expected
    monkeypatch.setattr(responses, "_join_snapshot", join)
    assert b"changed meanwhile" in b"".join(_copy(app, tricky)), "a new export has it"


@ON_POSTGRESQL
def test_a_schema_change_waiting_for_the_export_leaves_it_one_writer(app, tricky, monkeypatch):
    """An ALTER TABLE queued behind the first writer's locks: the second writer does not queue behind it (the
    export would never end, and every query on the table would wait behind the ALTER); the file is whole."""
    _small_slices(monkeypatch)
    expected = expected_csv(tricky, _secret(app))
    db.session.commit()
    join, altered, engine, altering = responses._join_snapshot, [], db.engine, []

    def alter():
        with engine.connect() as conn:
            conn.execute(text("SET lock_timeout = '20s'"))
            conn.execute(text("ALTER TABLE cluster ADD COLUMN added_meanwhile integer"))
            conn.rollback()
            altered.append(True)

    def join_while_altering(driver, snapshot):
        altering.append(threading.Thread(target=alter))
        altering[0].start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            waiting = db.session.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'ALTER%'")
            )
            db.session.rollback()  # pg_stat_activity is read once per transaction
            if waiting:
                break
            time.sleep(0.02)
        return join(driver, snapshot)

    monkeypatch.setattr(responses, "_join_snapshot", join_while_altering)
    body, writers = _export_noting_writers(app, tricky)
    assert writers == {"export-writer-0"}, "one writer: the second could not lock the tables at once"
    assert body == expected
    altering[0].join(timeout=20)
    assert altered == [True], "the schema change ran once the export was done"


@ON_POSTGRESQL
def test_a_writer_failing_stops_the_export(app, tricky, monkeypatch):
    """A database error in a later slice reaches the reader (the download breaks off rather than ending
    short), and both writers end with their connections back in the pool."""
    _small_slices(monkeypatch)
    failing = db.session.scalars(select(Response.id).filter_by(wave_id=tricky.id).order_by(Response.id)).all()[9]
    copy_query = responses._copy_query

    def failing_query(questionnaire):
        query, keys = copy_query(questionnaire)
        return query.replace("SELECT r.id,", f"SELECT r.id / (r.id <> {failing:d})::int,", 1), keys

    monkeypatch.setattr(responses, "_copy_query", failing_query)
    checked_out = db.engine.pool.checkedout()
    with closing(_copy(app, tricky)) as chunks, pytest.raises(psycopg.errors.DivisionByZero):
        for _ in chunks:
            pass
    assert not _writers() and db.engine.pool.checkedout() == checked_out


@ON_POSTGRESQL
def test_the_export_of_a_wave_without_responses_is_its_header(app, tricky):
    empty = create_wave(
        "wave-2030", "Survey 2030", load_questionnaire(), clock.today(), clock.today() + timedelta(days=30)
    )
    db.session.commit()
    body = b"".join(_copy(app, empty))
    assert body == expected_csv(empty, _secret(app)) and body.count(b"\n") == 1


@ON_POSTGRESQL
def test_slices_leave_out_other_waves_responses_among_the_ids(app, tricky, monkeypatch):
    """Another wave's responses between this wave's ids (and their clusters) stay out of every slice."""
    _small_slices(monkeypatch, rows=3)
    earlier = db.session.scalar(select(Wave).filter_by(slug="wave-2019"))
    ids = db.session.scalars(select(Response.id).filter_by(wave_id=tricky.id).order_by(Response.id)).all()
    moved = [ids[4], ids[len(ids) // 2]]  # one with clusters, in the middle of slices
    db.session.execute(update(Response).where(Response.id.in_(moved)).values(wave_id=earlier.id))
    db.session.commit()
    body = b"".join(_copy(app, tricky))
    assert body == expected_csv(tricky, _secret(app))
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(ids) - len(moved) and not {str(i) for i in moved} & {row["response"] for row in rows}


@ON_POSTGRESQL
def test_a_reader_leaving_early_stops_the_writers(app, tricky, monkeypatch):
    """A client that goes away mid-file: the writers' COPY statements are cancelled, their threads end and their
    connections go back to the pool."""
    _small_slices(monkeypatch)
    chunks = _copy(app, tricky)
    checked_out = db.engine.pool.checkedout()
    with closing(chunks):
        next(chunks), next(chunks)
        writing = _writers(), db.engine.pool.checkedout()
    assert writing == ({"export-writer-0", "export-writer-1"}, checked_out + 2)
    assert not _writers()
    assert db.engine.pool.checkedout() == checked_out
    copying = db.session.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'active' AND query LIKE 'COPY%'"
        )
    )
    assert copying == 0


@ON_POSTGRESQL
@pytest.mark.parametrize("secret", [b"", b"short key", b"k" * 64, b"k" * 65, "clé très secrète".encode() * 9])
def test_the_pseudonym_computed_in_sql_is_the_hmac(app, secret):
    inner, outer = responses.hmac_pads(secret)
    cursor = db.session.connection().connection.driver_connection.cursor()
    for organisation_id in (1, 42, 2**31 - 1):
        cursor.execute(
            "SELECT " + responses.PSEUDONYM_SQL.format(organisation_id="%(organisation_id)s"),
            {"inner": inner, "outer": outer, "organisation_id": organisation_id},
        )
        got = cursor.fetchone()[0]
        assert got == responses.pseudonym(secret, organisation_id)


@pytest.mark.parametrize("secret", [b"", b"k" * 64, b"k" * 65, b"\xff" * 200])
def test_the_hmac_pads_give_the_hmac(secret):
    inner, outer = responses.hmac_pads(secret)
    message = b"organisation:7"
    by_pads = hashlib.sha256(outer + hashlib.sha256(inner + message).digest()).hexdigest()[:16]
    assert by_pads == responses.pseudonym(secret, 7)


@ON_POSTGRESQL
def test_item_codes_reach_the_sql_as_values_only(app, tricky):
    """An item code full of SQL and format characters is looked up as a JSON key, not run."""
    document = copy.deepcopy(tricky.questionnaire.document)
    odd = "c'o\"m%m{e}n;ts); DROP TABLE response; --"
    item = next(item for section in document["sections"] for item in section["items"] if item["code"] == "comments")
    item["code"] = odd
    questionnaire = parse(document)
    for response in db.session.scalars(select(Response).filter_by(wave_id=tricky.id)):
        response.answers = {**response.answers, odd: response.answers.get("comments")}
    db.session.commit()  # the export's writers read through connections of their own
    head, secret = responses.header(questionnaire), _secret(app)
    python = b"".join(
        responses.csv_chunks(responses.response_rows(db.session, tricky.id, tricky.slug, questionnaire, secret), head)
    )
    database = b"".join(responses.copy_chunks(db.session, tricky.id, tricky.slug, questionnaire, secret, head))
    assert database == python
    rows = list(csv.DictReader(io.StringIO(database.decode("utf-8-sig"), newline="")))
    assert rows[0][odd] == "'" + COMMENTS[0] and db.session.scalar(select(func.count(Response.id))) > 0
