"""A report's charts as images, all drawn from the same spec as the page's chart: the SVG the page shows in a
chart's place when JavaScript is off (cached with the page's results), and the PNG and PDF downloads (rate
limited and written to the download audit log, as every download is)."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from reports import charts
from reports.sections import SECTION_NAMES, build_sections
from survey.access import allow
from survey.cache import report_cache
from survey.download_request import MIME, audit, filename, limited
from survey.exports import brief
from survey.exports.files import attachment
from survey.report_request import READERS, cache_parts, page_context, waves_read

bp = Blueprint("charts", __name__, url_prefix="/reports")


@bp.get("/<slug>/charts/<name>.svg")
@allow(*READERS)
def svg(slug: str, name: str):
    """One chart drawn on the server: what pages show in the chart's place when JavaScript is off."""
    if name not in SECTION_NAMES:
        abort(404)
    ctx = page_context(slug)

    def draw() -> str | None:
        chart = build_sections(ctx, [name])[name].chart
        return None if chart is None else charts.to_svg(chart)

    drawn = report_cache().get_or_compute("svg", waves_read(ctx), cache_parts(ctx, name), draw)
    if drawn is None:
        abort(404)
    return Response(drawn, mimetype="image/svg+xml")


@bp.get("/<slug>/charts/<name>.png", defaults={"fmt": "png"})
@bp.get("/<slug>/charts/<name>.pdf", defaults={"fmt": "pdf"})
@allow(*READERS)
@limited
def download(slug: str, name: str, fmt: str):
    """One chart as a PNG image or a PDF."""
    if name not in SECTION_NAMES:
        abort(404)
    ctx = page_context(slug)
    chart = build_sections(ctx, [name])[name].chart
    if chart is None:
        abort(404)
    body = brief.to_png(chart) if fmt == "png" else brief.to_pdf(chart)
    audit(f"chart:{name}.{fmt}", slug)
    return attachment(body, MIME[fmt], filename(ctx.survey.slug, f"chart-{name}", fmt))
