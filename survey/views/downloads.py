"""Downloads of a report: its tables (CSV, XLSX, JSON, codebook), its charts (PNG, PDF), the PDF brief, the ZIP
summary pack, and for admins the full response export.

Every download takes the report page's query parameters and scope (`survey.views.reports._context`: unknown
parameters 400, another manager's cluster 404), is built from the same suppressed frames as the page, goes
out as an attachment with a fixed type and a file name made here, is rate-limited per user, and is written to
the download audit log. Building the files is `survey.exports`' job; this module only wires requests to it.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, request, stream_with_context
from flask_babel import gettext
from flask_login import current_user

from reports.sections import SECTION_NAMES, build_sections
from survey import clock
from survey.access import allow
from survey.exports import brief, responses, tables
from survey.exports.files import attachment
from survey.extensions import db, limiter
from survey.models import DownloadLog, Role
from survey.queries.lookups import wave_or_404
from survey.report_request import READERS, page_context

bp = Blueprint("downloads", __name__, url_prefix="/reports")

MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "png": "image/png",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


def _export_limit() -> str:
    return current_app.config.get("EXPORT_RATE_LIMIT", "60 per minute;600 per hour")


def _user_key() -> str:
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else request.remote_addr or ""


def _limited(view):
    return limiter.limit(
        _export_limit, key_func=_user_key, error_message=lambda: gettext("Too many downloads. Please wait a minute.")
    )(view)


def _audit(what: str, slug: str) -> None:
    """Record the download (who, what, when, which filters) in the request's transaction, and commit."""
    db.session.add(
        DownloadLog(
            user_id=current_user.id if current_user.is_authenticated else None,
            downloaded_at=clock.now(),
            what=what,
            survey=slug,
            filters=request.args.to_dict(flat=False),
        )
    )
    db.session.commit()


def _filename(slug: str, what: str, extension: str) -> str:
    """A file name made here: the wave's slug (letters, digits, dashes), what it is and the date."""
    safe = "".join(ch for ch in slug if ch.isalnum() or ch in "-_")[:64] or "survey"
    return f"{safe}-{what}-{date.today().isoformat()}.{extension}"


def _wave_dates(slug: str) -> tuple[str, str]:
    wave = wave_or_404(slug)
    return (wave.opens_on.isoformat() if wave.opens_on else "", wave.closes_on.isoformat() if wave.closes_on else "")


def _report(slug: str) -> tables.ReportTables:
    ctx = page_context(slug)
    return tables.report_tables(ctx, request.args.to_dict(flat=False), clock.now(), _wave_dates(slug))


@bp.get("/<slug>/adoption.csv", defaults={"fmt": "csv"})
@bp.get("/<slug>/adoption.xlsx", defaults={"fmt": "xlsx"})
@bp.get("/<slug>/adoption.json", defaults={"fmt": "json"})
@allow(*READERS)
@_limited
def report_tables(slug: str, fmt: str):
    """The report's tables: tidy long CSV, XLSX (a sheet per table, Codebook, About) or JSON."""
    report = _report(slug)
    body = {"csv": tables.to_csv, "xlsx": tables.to_xlsx, "json": tables.to_json}[fmt](report)
    _audit(f"adoption.{fmt}", slug)
    return attachment(body, MIME[fmt], _filename(report.survey.slug, "adoption", fmt))


@bp.get("/<slug>/codebook.csv")
@allow(*READERS)
@_limited
def codebook(slug: str):
    report = _report(slug)
    _audit("codebook.csv", slug)
    return attachment(tables.codebook_csv(report), MIME["csv"], _filename(report.survey.slug, "codebook", "csv"))


@bp.get("/<slug>/charts/<name>.png", defaults={"fmt": "png"})
@bp.get("/<slug>/charts/<name>.pdf", defaults={"fmt": "pdf"})
@allow(*READERS)
@_limited
def chart_image(slug: str, name: str, fmt: str):
    """One chart as a PNG image or a PDF, drawn from the same spec as the page's chart."""
    if name not in SECTION_NAMES:
        abort(404)
    ctx = page_context(slug)
    section = build_sections(ctx, [name])[name]
    if section.chart is None:
        abort(404)
    body = brief.to_png(section.chart) if fmt == "png" else brief.to_pdf(section.chart)
    _audit(f"chart:{name}.{fmt}", slug)
    return attachment(body, MIME[fmt], _filename(ctx.survey.slug, f"chart-{name}", fmt))


def _chart_titles() -> dict[str, str]:
    return {
        "adoption": gettext("Adoption by technology"),
        "comparison": gettext("Clusters compared with all clusters"),
        "heatmap": gettext("Clusters by technology"),
        "waves": gettext("Change between waves"),
        "challenges": gettext("Pandemic challenges by importance"),
    }


def _brief(slug: str) -> tuple[tables.ReportTables, bytes]:
    ctx = page_context(slug)
    report = tables.report_tables(ctx, request.args.to_dict(flat=False), clock.now(), _wave_dates(slug))
    titles = _chart_titles()
    images = {
        name: (titles[name], brief.to_png(section.chart))
        for name, section in build_sections(ctx).items()
        if section.chart is not None
    }
    return report, brief.brief_pdf(report, images)


@bp.get("/<slug>/brief.pdf")
@allow(*READERS)
@_limited
def brief_pdf(slug: str):
    """The PDF brief: key figures, method note, and every chart the page shows."""
    report, body = _brief(slug)
    _audit("brief.pdf", slug)
    return attachment(body, MIME["pdf"], _filename(report.survey.slug, "brief", "pdf"))


@bp.get("/<slug>/summary.zip")
@allow(*READERS)
@_limited
def summary_pack(slug: str):
    """The brief with the CSV, its codebook and the XLSX, in one ZIP."""
    report, pdf = _brief(slug)
    name = report.survey.slug
    files = {
        _filename(name, "brief", "pdf"): pdf,
        _filename(name, "adoption", "csv"): tables.to_csv(report),
        _filename(name, "codebook", "csv"): tables.codebook_csv(report),
        _filename(name, "adoption", "xlsx"): tables.to_xlsx(report),
    }
    _audit("summary.zip", slug)
    return attachment(brief.pack_zip(files), MIME["zip"], _filename(name, "summary", "zip"))


@bp.get("/<slug>/responses.csv")
@allow(Role.ADMIN)
@_limited
def response_export(slug: str):
    """Every response of the wave, a row each, organisations pseudonymous; streamed as it is read."""
    if request.args:
        abort(400, gettext("This download takes no settings."))
    wave = wave_or_404(slug)
    questionnaire = wave.questionnaire.parsed
    wave_id, wave_slug = wave.id, wave.slug
    secret = str(current_app.config["SECRET_KEY"]).encode()
    _audit("responses.csv", slug)
    body = stream_with_context(responses.export_chunks(db.session, wave_id, wave_slug, questionnaire, secret))
    return attachment(body, MIME["csv"], _filename(wave_slug, "responses", "csv"))
