"""Downloads of a report: its tables (CSV, XLSX, JSON, codebook), the PDF brief, the ZIP summary pack, and for
admins the full response export. Chart images (SVG, PNG, PDF) are `survey.views.charts`'.

Every download takes the report page's query parameters and scope (`survey.report_request.page_context`: unknown
parameters 400, another manager's cluster 404), is built from the same suppressed frames as the page, goes
out as an attachment with a fixed type and a file name made here, is rate-limited per user, and is written to
the download audit log (`survey.download_request`). Building the files is `survey.exports`' job; this module
only wires requests to it.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request, stream_with_context
from flask_babel import gettext

from reports.sections import build_sections
from survey import clock, report_request
from survey.access import allow
from survey.download_request import MIME, audit, filename, limited
from survey.exports import brief, responses, tables
from survey.exports.files import attachment
from survey.extensions import db
from survey.models import Role
from survey.queries.lookups import wave_or_404
from survey.report_request import READERS, page_context

bp = Blueprint("downloads", __name__, url_prefix="/reports")


def _wave_dates(slug: str) -> tuple[str, str]:
    wave = wave_or_404(slug)
    return (wave.opens_on.isoformat() if wave.opens_on else "", wave.closes_on.isoformat() if wave.closes_on else "")


def _report(slug: str) -> tables.ReportTables:
    return tables.report_tables(page_context(slug), request.args.to_dict(flat=False), clock.now(), _wave_dates(slug))


@bp.get("/<slug>/adoption.csv", defaults={"fmt": "csv"})
@bp.get("/<slug>/adoption.xlsx", defaults={"fmt": "xlsx"})
@bp.get("/<slug>/adoption.json", defaults={"fmt": "json"})
@allow(*READERS)
@limited
def report_tables(slug: str, fmt: str):
    """The report's tables: tidy long CSV, XLSX (a sheet per table, Codebook, About) or JSON."""
    report = _report(slug)
    body = {"csv": tables.to_csv, "xlsx": tables.to_xlsx, "json": tables.to_json}[fmt](report)
    audit(f"adoption.{fmt}", slug)
    return attachment(body, MIME[fmt], filename(report.survey.slug, "adoption", fmt))


@bp.get("/<slug>/codebook.csv")
@allow(*READERS)
@limited
def codebook(slug: str):
    report = _report(slug)
    audit("codebook.csv", slug)
    return attachment(tables.codebook_csv(report), MIME["csv"], filename(report.survey.slug, "codebook", "csv"))


def _brief(slug: str) -> tuple[tables.ReportTables, bytes]:
    ctx = page_context(slug)
    # The tables and the charts read the same context, so the brief reads each population once, as the page does.
    report = tables.report_tables(ctx, request.args.to_dict(flat=False), clock.now(), _wave_dates(slug))
    titles = report_request.section_titles()
    images = {
        name: (titles[name], brief.to_png(section.chart))
        for name, section in build_sections(ctx).items()
        if section.chart is not None
    }
    return report, brief.brief_pdf(report, images)


@bp.get("/<slug>/brief.pdf")
@allow(*READERS)
@limited
def brief_pdf(slug: str):
    """The PDF brief: key figures, method note, and every chart the page shows."""
    report, body = _brief(slug)
    audit("brief.pdf", slug)
    return attachment(body, MIME["pdf"], filename(report.survey.slug, "brief", "pdf"))


@bp.get("/<slug>/summary.zip")
@allow(*READERS)
@limited
def summary_pack(slug: str):
    """The brief with the CSV, its codebook and the XLSX, in one ZIP."""
    report, pdf = _brief(slug)
    name = report.survey.slug
    files = {
        filename(name, "brief", "pdf"): pdf,
        filename(name, "adoption", "csv"): tables.to_csv(report),
        filename(name, "codebook", "csv"): tables.codebook_csv(report),
        filename(name, "adoption", "xlsx"): tables.to_xlsx(report),
    }
    audit("summary.zip", slug)
    return attachment(brief.pack_zip(files), MIME["zip"], filename(name, "summary", "zip"))


@bp.get("/<slug>/responses.csv")
@allow(Role.ADMIN)
@limited
def response_export(slug: str):
    """Every response of the wave, a row each, organisations pseudonymous; streamed as it is read."""
    if request.args:
        abort(400, gettext("This download takes no settings."))
    wave = wave_or_404(slug)
    questionnaire = wave.questionnaire.parsed
    wave_id, wave_slug = wave.id, wave.slug
    secret = str(current_app.config["SECRET_KEY"]).encode()
    audit("responses.csv", slug)
    body = stream_with_context(responses.export_chunks(db.session, wave_id, wave_slug, questionnaire, secret))
    return attachment(body, MIME["csv"], filename(wave_slug, "responses", "csv"))
