"""The full response export (admins only): one row per response, streamed so memory stays flat.

Organisations appear under a pseudonym, an HMAC-SHA256 of their id keyed with the app's secret key: the same
organisation has the same pseudonym in every wave (so waves can be linked), but the pseudonym cannot be turned
back into an organisation without the key. No names, e-mails or contact data are read.

Two ways to the same bytes (tests/test_response_export.py checks that they are identical):

- PostgreSQL (production) writes the CSV itself, `COPY (SELECT …) TO STDOUT WITH (FORMAT csv)`, pseudonyms and
  the spreadsheet-safe prefix included; Python only passes the blocks on (about twice as fast; figures in
  docs/benchmarks.md).
- Elsewhere (SQLite, the embedded default) Python builds each row: answers decoded with orjson, the pseudonym
  with `hmac`, cells written with `csv.writer`.

Lines end with "\\n" (COPY cannot write "\\r\\n"; spreadsheet programs read either).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import io
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import orjson
import psycopg
from psycopg import sql
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from survey.exports.files import FORMULA_STARTS, spreadsheet_safe
from survey.models import Cluster, Response, response_cluster
from survey.questionnaire import PROFILE_SECTION, Item, Questionnaire

#: Rows fetched from the database (Python path) and rows per CSV chunk.
BATCH = 5000
#: Bytes of COPY output gathered before they are passed on (COPY sends a message per row).
COPY_CHUNK = 256 * 1024
#: Responses per COPY statement of `copy_chunks`; connections writing slices at once (the database server's
#: cores that one export may keep busy); chunks a writer may hold before the reader takes them (12 MB: a slice
#: of the default questionnaire's rows, about 8 MB, fits, so a writer is never kept waiting for long).
SLICE_ROWS = 25_000
WRITERS = 2
AHEAD = 48
PROFILE_COLUMNS = ["country", "region", "org_type", "size_class", "ecosystem"]
FREE_TEXT = {"text", "textarea"}


def pseudonym(secret: bytes, organisation_id: int) -> str:
    """A stable, keyed, one-way stand-in for an organisation id (64 bits, hex)."""
    return hmac.new(secret, f"organisation:{organisation_id}".encode(), hashlib.sha256).hexdigest()[:16]


def hmac_pads(secret: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer keys (K ⊕ ipad, K ⊕ opad; RFC 2104), so SQL can compute `pseudonym`:
    HMAC(K, m) = H((K ⊕ opad) || H((K ⊕ ipad) || m)). A key longer than the block is hashed first, as HMAC does."""
    key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def _items(questionnaire: Questionnaire) -> list[Item]:
    return [item for item in questionnaire.items.values() if item.section != PROFILE_SECTION]


def header(questionnaire: Questionnaire) -> list[str]:
    codes = [item.code for item in _items(questionnaire)]
    return ["response", "organisation", "wave", "submitted_at", "updated_at", *PROFILE_COLUMNS, "clusters", *codes]


def export_chunks(
    session: Session, wave_id: int, wave_slug: str, questionnaire: Questionnaire, secret: bytes
) -> Iterator[bytes]:
    """The whole CSV file (byte order mark, header, a row per response) as UTF-8 chunks."""
    head = header(questionnaire)
    if session.get_bind().dialect.name == "postgresql":
        return copy_chunks(session, wave_id, wave_slug, questionnaire, secret, head)
    return csv_chunks(response_rows(session, wave_id, wave_slug, questionnaire, secret), head)


# --- PostgreSQL: COPY writes the CSV ---------------------------------------------------------------------

#: spreadsheet_safe in SQL: a leading apostrophe before a formula start (survey.exports.files.FORMULA_STARTS, bound
#: as `%(formula_starts)s`). `{0}` is an expression; an empty text becomes NULL (see _copy_query).
_SAFE = "CASE WHEN left({0}, 1) = ANY(%(formula_starts)s) THEN '''' || {0} ELSE nullif({0}, '') END"


#: `pseudonym` in SQL, from the pads of `hmac_pads` (`%(inner)s`, `%(outer)s`); PostgreSQL 11+ has sha256().
PSEUDONYM_SQL = (
    "left(encode(sha256(%(outer)s || sha256(%(inner)s || convert_to('organisation:' || {organisation_id}, "
    "'UTF8'))), 'hex'), 16)"
)


def _copy_query(questionnaire: Questionnaire) -> tuple[str, dict[str, str]]:
    """The COPY statement and its answer keys (`%(item0)s`…; the caller adds the pads, wave id and slug).

    COPY writes NULL as an empty cell but an empty text as `""`, where csv.writer writes nothing for both:
    hence `nullif(…, '')` on every text cell. Item codes are passed as values (`answers ->> %(item0)s`), never
    spliced into the statement.
    """
    cells, lateral, keys = [], [], {}
    for index, item in enumerate(_items(questionnaire)):
        key = f"item{index}"
        keys[key] = item.code
        answer = f"r.answers ->> %({key})s"
        if item.type == "multi":
            # The ticked codes as text[] (in stored order, JSON strings decoded) by jsonb_to_record, joined with
            # ';' as the Python path's ";".join(list); a value that is not a list is written as it is, like there.
            # (A subquery over jsonb_array_elements_text per row would double the export's time.)
            lateral.append(
                f"CROSS JOIN LATERAL jsonb_to_record(jsonb_build_object('v', CASE WHEN jsonb_typeof("
                f"r.answers -> %({key})s) = 'array' THEN r.answers -> %({key})s END)) AS {key}(v text[])"
            )
            cells.append(
                f"CASE WHEN {key}.v IS NULL THEN nullif({answer}, '') "
                f"ELSE nullif(array_to_string({key}.v, ';'), '') END"
            )
        elif item.type in FREE_TEXT:
            cells.append(_SAFE.format(f"({answer})"))
        else:
            cells.append(f"nullif({answer}, '')")
    # Timestamps are `timestamp without time zone` (naive UTC, survey.clock): to_char prints them as
    # datetime.isoformat(timespec="seconds") does, seconds truncated, no offset.
    iso = """to_char({}, 'YYYY-MM-DD"T"HH24:MI:SS')"""
    query = f"""COPY (
    SELECT r.id,
           {PSEUDONYM_SQL.format(organisation_id="r.organisation_id")},
           %(wave_slug)s, {iso.format("r.submitted_at")}, {iso.format("r.updated_at")},
           nullif(r.country, ''), {_SAFE.format("r.region")}, nullif(r.org_type, ''), nullif(r.size_class, ''),
           nullif(r.ecosystem, ''), m.slugs,
           {", ".join(cells)}
    FROM response AS r
    -- The clusters of every response in one pass, merged in response id order (a subquery per row is several
    -- times slower). Filtered by the slice's ids, not by wave: that would read the response table a second
    -- time, where the merge join skips other waves' memberships in the slice for little. string_agg
    -- takes them in the order of the inner subquery (cluster id), as PostgreSQL's manual allows when nothing
    -- else is done at that level (and no parallel plan, see copy_chunks); an ORDER BY inside string_agg would
    -- sort each response's few clusters again, at a cost of about a second per million rows.
    LEFT JOIN (SELECT response_id, string_agg(slug, ';') AS slugs
               FROM (SELECT rc.response_id, {_SAFE.format("c.slug")} AS slug
                     FROM response_cluster AS rc JOIN cluster AS c ON c.id = rc.cluster_id
                     WHERE rc.response_id >= %(first)s AND rc.response_id < %(stop)s
                     ORDER BY rc.response_id, rc.cluster_id) AS ordered
               GROUP BY response_id) AS m ON m.response_id = r.id
    {" ".join(lateral)}
    WHERE r.wave_id = %(wave_id)s AND r.id >= %(first)s AND r.id < %(stop)s
    ORDER BY r.id
) TO STDOUT WITH (FORMAT csv)"""
    return query, keys


def copy_chunks(
    session: Session, wave_id: int, wave_slug: str, questionnaire: Questionnaire, secret: bytes, head: Sequence[str]
) -> Iterator[bytes]:
    """The CSV as PostgreSQL's COPY writes it, in chunks of about COPY_CHUNK bytes (never all in memory).

    The wave is cut into slices of about SLICE_ROWS responses by id, and WRITERS connections take turns: while
    one slice is passed on, the next is being written by another server process. One process is the limit
    otherwise (its CPU turns JSON into cells; figures in docs/benchmarks.md). The connections share one
    snapshot (`pg_export_snapshot`, as `pg_dump --jobs` does), so the file is the wave at one moment, as a single
    COPY would be. Each writer runs ahead by at most AHEAD chunks, so memory stays bounded. The writers use
    connections of their own: the file holds what was committed when it started, not the session's own changes.
    """
    yield _csv_lines([head], bom=True).encode("utf-8")
    query, keys = _copy_query(questionnaire)
    inner, outer = hmac_pads(secret)
    # psycopg binds COPY's parameters client-side, as quoted literals.
    params = {
        "inner": inner,
        "outer": outer,
        "wave_id": wave_id,
        "wave_slug": wave_slug,
        "formula_starts": list(FORMULA_STARTS),
        **keys,
    }
    engine = session.get_bind()
    connections = [engine.raw_connection()]
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        snapshot, slices = _open_snapshot(connections[0].driver_connection, wave_id)
        while len(connections) < min(WRITERS, len(slices)):
            connections.append(engine.raw_connection())
            if not _join_snapshot(connections[-1].driver_connection, snapshot):
                connections.pop().close()  # the export goes on with the writers it has
                break
        queues: list[queue.Queue] = [queue.Queue(maxsize=AHEAD) for _ in connections]
        for turn, connection in enumerate(connections):
            thread = threading.Thread(
                target=_write_slices,
                daemon=True,
                name=f"export-writer-{turn}",
                args=(
                    connection.driver_connection,
                    query,
                    params,
                    slices[turn :: len(connections)],
                    queues[turn],
                    stop,
                ),
            )
            thread.start()
            threads.append(thread)
        for number in range(len(slices)):
            waiting = queues[number % len(connections)]
            while (chunk := waiting.get()) is not _SLICE_END:
                if isinstance(chunk, BaseException):
                    raise chunk
                yield chunk
    finally:
        # A client that goes away closes this generator: the writers cancel their COPY and stop.
        stop.set()
        for thread in threads:
            thread.join()
        for connection in connections:
            connection.close()  # back to the pool, rolled back


#: What a writer puts in its queue after a slice's last chunk.
_SLICE_END = object()
#: Every table the COPY reads, locked by each writer before it reads anything (see _join_snapshot).
_TABLES = "response, response_cluster, cluster"


class _Stopped(Exception):
    """Raised inside a writer's COPY when the reader has gone: leaving it so makes psycopg cancel the COPY."""


def _open_snapshot(driver, wave_id: int) -> tuple[str, list[tuple[int, int]]]:
    """Start a read-only snapshot on this connection; return its name and the wave's id slices (first, stop)."""
    with driver.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute(f"LOCK TABLE {_TABLES} IN ACCESS SHARE MODE")
        cursor.execute(
            "SELECT pg_export_snapshot(), min(id), max(id), count(*) FROM response WHERE wave_id = %s", (wave_id,)
        )
        snapshot, low, high, count = cursor.fetchone()
    if not count:
        return snapshot, []
    parts = -(-count // SLICE_ROWS)
    step = -(-(high - low + 1) // parts)
    return snapshot, [(first, min(first + step, high + 1)) for first in range(low, high + 1, step)]


def _join_snapshot(driver, snapshot: str) -> bool:
    """Start a transaction on the first writer's snapshot and lock the tables; False if they cannot be locked at
    once. That happens when a schema change (ALTER TABLE, a migration) is waiting for the first writer's locks:
    this writer would queue behind it, the reader would wait for this writer's slice, and the first writer for
    the reader, a cycle PostgreSQL cannot see. Without the second writer the export goes on, and the change
    after it (as `pg_dump --jobs` does, with NOWAIT)."""
    with driver.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        try:
            cursor.execute(f"LOCK TABLE {_TABLES} IN ACCESS SHARE MODE NOWAIT")
        except psycopg.errors.LockNotAvailable:
            return False
    return True


def _write_slices(
    driver,
    query: str,
    params: dict[str, Any],
    slices: list[tuple[int, int]],
    chunks: queue.Queue,
    stop: threading.Event,
) -> None:
    """A writer thread: COPY each slice on this connection, putting its chunks then _SLICE_END in `chunks`
    (or the exception that stopped it)."""

    def put(item: object) -> None:
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                chunks.put(item, timeout=0.1)
                return
        raise _Stopped

    with contextlib.suppress(_Stopped):
        try:
            with driver.cursor() as cursor:
                # No parallel plan: it would run the cluster aggregation once per worker, for no gain here; and
                # string_agg must see each response's clusters in order.
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
                for first, stop_id in slices:
                    with cursor.copy(query, {**params, "first": first, "stop": stop_id}) as copy:
                        buffer = bytearray()
                        for block in copy:
                            buffer += block
                            if len(buffer) >= COPY_CHUNK:
                                put(bytes(buffer))
                                buffer.clear()
                        if buffer:
                            put(bytes(buffer))
                    put(_SLICE_END)
        except BaseException as error:  # passed to the reader, who raises it (it would wait for ever otherwise)
            put(error)


# --- Elsewhere: Python writes the CSV ------------------------------------------------------------------------


def _clusters(session: Session, wave_id: int) -> Iterator[tuple[int, int]]:
    """(response id, cluster id) of one wave's responses, in response id order."""
    query = (
        select(response_cluster.c.response_id, response_cluster.c.cluster_id)
        .join(Response, Response.id == response_cluster.c.response_id)
        .where(Response.wave_id == wave_id)
        .order_by(response_cluster.c.response_id, response_cluster.c.cluster_id)
        .execution_options(yield_per=BATCH)
    )
    for row in session.execute(query):
        yield row[0], row[1]


def _iso_seconds(column):
    """A stored timestamp as datetime.isoformat(timespec="seconds"), in SQL: SQLAlchemy keeps SQLite datetimes as
    'YYYY-MM-DD HH:MM:SS.ffffff' text (PostgreSQL's ISO output is alike), so the first 19 characters with a 'T'
    are the same, without making a datetime per cell."""
    return func.replace(func.substr(cast(column, Text), 1, 19), " ", "T")


def response_rows(
    session: Session, wave_id: int, wave_slug: str, questionnaire: Questionnaire, secret: bytes
) -> Iterator[list[Any]]:
    """Every response of the wave as a CSV row (header excluded), text made spreadsheet-safe (SQLite path).

    This is the export's hot loop (a million rows): answers are read as JSON text and decoded with orjson;
    rows come through Core, not the ORM; only the few cells that need it are touched after a row is built.
    """
    names = {
        cluster_id: str(spreadsheet_safe(slug))
        for cluster_id, slug in session.execute(select(Cluster.id, Cluster.slug))
    }
    items = _items(questionnaire)
    codes = [item.code for item in items]
    offset = len(header(questionnaire)) - len(codes)
    free_text = [offset + i for i, item in enumerate(items) if item.type in FREE_TEXT]
    lists = [offset + i for i, item in enumerate(items) if item.type == "multi"]
    # `wave_id + 0` keeps SQLite off the (wave_id, organisation_id) index: that index would make it sort the
    # whole wave by id in a temporary B-tree, three times slower than reading the table in id order.
    query = (
        select(
            Response.id,
            Response.organisation_id,
            _iso_seconds(Response.submitted_at),
            _iso_seconds(Response.updated_at),
            Response.country,
            Response.region,
            Response.org_type,
            Response.size_class,
            Response.ecosystem,
            cast(Response.answers, Text),
        )
        .where(Response.wave_id + 0 == wave_id)
        .order_by(Response.id)
    )
    connection = session.connection()
    memberships = _clusters(session, wave_id)
    pending = next(memberships, None)
    keyed = hmac.new(secret, digestmod=hashlib.sha256)
    decode = orjson.loads
    result = connection.execution_options(yield_per=BATCH).execute(query)
    for (
        response_id,
        organisation_id,
        submitted_at,
        updated_at,
        country,
        region,
        org_type,
        size_class,
        ecosystem,
        raw_answers,
    ) in result:
        clusters: list[str] = []
        while pending is not None and pending[0] <= response_id:
            if pending[0] == response_id:
                clusters.append(names.get(pending[1], ""))
            pending = next(memberships, None)
        mac = keyed.copy()
        mac.update(b"organisation:%d" % organisation_id)
        answers = decode(raw_answers).get
        row: list[Any] = [
            response_id,
            mac.hexdigest()[:16],
            wave_slug,
            submitted_at,
            updated_at,
            country,
            spreadsheet_safe(region),
            org_type,
            size_class,
            ecosystem,
            ";".join(clusters),
            *map(answers, codes),
        ]
        for index in lists:
            if isinstance(row[index], list):  # nothing ticked ([]) is an empty cell
                row[index] = ";".join(map(str, row[index]))
        for index in free_text:
            row[index] = spreadsheet_safe(row[index])
        yield row


def csv_chunks(rows: Iterable[Sequence[Any]], head: Sequence[str], batch: int = 2000) -> Iterator[bytes]:
    """CSV bytes a batch of rows at a time (cells already safe: no per-cell work here, for speed)."""
    yield _csv_lines([head], bom=True).encode("utf-8")
    rows = iter(rows)
    while chunk := list(islice(rows, batch)):
        yield _csv_lines(chunk).encode("utf-8")


def _csv_lines(rows: list[Sequence[Any]], bom: bool = False) -> str:
    """Rows as CSV text quoted as PostgreSQL's COPY quotes them: a cell with , " CR or LF in quotes."""
    buffer = io.StringIO()
    if bom:  # spreadsheet programs need it to read the file as UTF-8
        buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    text = buffer.getvalue()
    if "\r" in text:
        # Python's csv module quotes a cell holding a lone CR only when the line terminator has one (COPY always
        # quotes it). Rare (typed text), so such batches are written again with "\r\n", a row at a time, and
        # each line's terminator is cut back to "\n".
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        lines = ["\ufeff"] if bom else []
        for row in rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(row)
            lines.append(buffer.getvalue()[:-2] + "\n")
        text = "".join(lines)
    return text
