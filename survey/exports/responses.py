"""The full response export (admins only): one row per response, streamed so memory stays flat.

Organisations appear under a pseudonym, an HMAC-SHA256 of their id keyed with the app's secret key: the same
organisation has the same pseudonym in every wave (so waves can be linked), but the pseudonym cannot be turned
back into an organisation without the key. No names, e-mails or contact data are read.

Responses and their clusters are read with two server-side cursors ordered by response id and merged as they
go (`yield_per`), so neither the responses nor the cluster lists are ever all in memory.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from survey.downloads import spreadsheet_safe
from survey.models import Cluster, Response, response_cluster
from survey.questionnaire import PROFILE_SECTION, Questionnaire

#: Rows fetched from the database at a time.
BATCH = 5000
PROFILE_COLUMNS = ["country", "region", "org_type", "size_class", "ecosystem"]


def pseudonym(secret: bytes, organisation_id: int) -> str:
    """A stable, keyed, one-way stand-in for an organisation id (64 bits, hex)."""
    return hmac.new(secret, f"organisation:{organisation_id}".encode(), hashlib.sha256).hexdigest()[:16]


def header(questionnaire: Questionnaire) -> list[str]:
    items = [code for code, item in questionnaire.items.items() if item.section != PROFILE_SECTION]
    return ["response", "organisation", "wave", "submitted_at", "updated_at", *PROFILE_COLUMNS, "clusters", *items]


def _clusters(session: Session, wave_id: int) -> Iterator[tuple[int, int]]:
    """(response id, cluster id) of one wave's responses, in response id order."""
    query = (select(response_cluster.c.response_id, response_cluster.c.cluster_id)
             .join(Response, Response.id == response_cluster.c.response_id)
             .where(Response.wave_id == wave_id)
             .order_by(response_cluster.c.response_id, response_cluster.c.cluster_id)
             .execution_options(yield_per=BATCH))
    for row in session.execute(query):
        yield row[0], row[1]


def response_rows(session: Session, wave_id: int, wave_slug: str, questionnaire: Questionnaire,
                  secret: bytes) -> Iterator[list[Any]]:
    """Every response of the wave as a CSV row (header excluded), text made spreadsheet-safe.

    This is the export's hot loop (a million rows): answers are read as JSON text (cast in SQL, so that
    PostgreSQL does not decode the JSONB either) and decoded with orjson; rows come through Core, not the ORM;
    only the few columns that need it are touched after a row is built (`csv.writer` writes None as empty).
    """
    names = {cluster_id: str(spreadsheet_safe(slug))
             for cluster_id, slug in session.execute(select(Cluster.id, Cluster.slug))}
    items = [item for item in questionnaire.items.values() if item.section != PROFILE_SECTION]
    codes = [item.code for item in items]
    offset = len(header(questionnaire)) - len(codes)
    free_text = [offset + i for i, item in enumerate(items) if item.type in {"text", "textarea"}]
    lists = [offset + i for i, item in enumerate(items) if item.type == "multi"]
    query = (select(Response.id, Response.organisation_id, Response.submitted_at, Response.updated_at,
                    Response.country, Response.region, Response.org_type, Response.size_class, Response.ecosystem,
                    cast(Response.answers, Text))
             .where(Response.wave_id == wave_id).order_by(Response.id))
    connection = session.connection()
    memberships = _clusters(session, wave_id)
    pending = next(memberships, None)
    keyed = hmac.new(secret, digestmod=hashlib.sha256)
    decode = orjson.loads
    result = connection.execution_options(yield_per=BATCH).execute(query)
    for (response_id, organisation_id, submitted_at, updated_at, country, region, org_type, size_class, ecosystem,
         raw_answers) in result:
        clusters: list[str] = []
        while pending is not None and pending[0] <= response_id:
            if pending[0] == response_id:
                clusters.append(names.get(pending[1], ""))
            pending = next(memberships, None)
        mac = keyed.copy()
        mac.update(b"organisation:%d" % organisation_id)
        answers = decode(raw_answers)
        row: list[Any] = [response_id, mac.hexdigest()[:16], wave_slug, submitted_at.isoformat(timespec="seconds"),
                          updated_at.isoformat(timespec="seconds"), country, spreadsheet_safe(region), org_type,
                          size_class, ecosystem, ";".join(clusters), *[answers.get(code) for code in codes]]
        for index in lists:
            if row[index]:
                row[index] = ";".join(map(str, row[index]))
        for index in free_text:
            row[index] = spreadsheet_safe(row[index])
        yield row


def csv_chunks(rows: Iterator[Sequence[Any]], head: Sequence[str], batch: int = 2000) -> Iterator[bytes]:
    """CSV bytes a batch of rows at a time (cells already safe: no per-cell work here, for speed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(head)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
        if count == batch:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            count = 0
    yield buffer.getvalue().encode("utf-8")
