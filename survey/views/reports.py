"""Report pages for cluster managers and policymakers: adoption charts, their numbers and response rates.

Views stay thin: parse the query parameters (reports.dimensions), ask `reports` for the sections, render.
Charts are drawn in the browser by Vega served from this app (no CDN); without JavaScript each chart is an
SVG image drawn on the server by the route below.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import version

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import get_locale, gettext

from reports import charts, results
from reports.aggregate import load_survey
from reports.context import Survey
from reports.dimensions import InvalidQuery, PageQuery, parse_page_query, requested_values
from reports.sections import SECTION_NAMES, PageContext, build_sections, compare_wave
from survey.access import allow, public, visible_cluster_ids
from survey.extensions import db

bp = Blueprint("reports", __name__, url_prefix="/reports")


#: Who may read reports: everyone with an account; a manager only their own clusters (and the total).
READERS = ("manager", "policymaker", "admin")


def refuse_hidden_clusters(survey: Survey, visible: frozenset[int] | None) -> None:
    """404 when the query names a cluster the user may not see, as if it did not exist (a manager asking for
    another cluster's figures must not learn even that the cluster takes part)."""
    if visible is None:
        return
    hidden = {option.value for option in survey.options.get("cluster", ()) if option.key not in visible}
    if hidden & set(requested_values(request.args.to_dict(flat=False), "cluster")):
        abort(404)


def _survey_or_404(slug: str) -> Survey:
    survey = load_survey(db.session.connection(), slug, translate=gettext, locale=str(get_locale() or "en"))
    if survey is None:
        abort(404, gettext("There is no survey wave at this address."))
    return survey


def _page_query(survey: Survey, visible: frozenset[int] | None) -> PageQuery:
    refuse_hidden_clusters(survey, visible)
    try:
        return parse_page_query(request.args.to_dict(flat=False), survey, visible)
    except InvalidQuery as error:
        name = error.parameter if len(error.parameter) <= 40 else error.parameter[:40] + "…"
        if error.kind == "parameter":
            message = gettext("This page has no setting called “%(name)s”.", name=name)
        elif error.kind == "single":
            message = gettext("Choose one value for “%(name)s”.", name=name)
        else:
            message = gettext("“%(name)s” has a value this page does not know.", name=name)
        if error.allowed:
            message += " " + gettext("Allowed: %(values)s.", values=", ".join(error.allowed))
        abort(400, message)


def _chart_text() -> charts.ChartText:
    return charts.ChartText(
        share=gettext("Share of organisations"),
        share_using=gettext("Share using"),
        share_using_or_planning=gettext("Share using or planning"),
        technology=gettext("Technology"),
        answer=gettext("Answer"),
        group=gettext("Group"),
        cluster=gettext("Cluster"),
        all_clusters=gettext("All clusters"),
        wave=gettext("Wave"),
        challenge=gettext("Challenge"),
        importance=gettext("Importance"),
        organisations=gettext("Organisations"),
        interval=gettext("95% CI"),
        withheld=gettext("Withheld (too few responses)"),
        short_answers={"using": gettext("Using"), "planning": gettext("Planning"),
                       "not_planned": gettext("No plans"), "dont_know": gettext("Don't know")},
    )


def _context(slug: str) -> PageContext:
    survey = _survey_or_404(slug)
    visible = visible_cluster_ids()
    page = _page_query(survey, visible)
    return PageContext(conn=db.session.connection(), survey=survey, page=page,
                       k=current_app.config["MIN_CELL_SIZE"], visible_clusters=visible, text=_chart_text())


@bp.get("/<slug>")
@allow(*READERS)
def report(slug: str):
    ctx = _context(slug)
    sections = build_sections(ctx)
    rates, total = results.response_rates(ctx.conn, ctx.survey, ctx.k, ctx.visible_clusters, ctx.current())
    specs = {name: charts.to_spec(section.chart) for name, section in sections.items() if section.chart is not None}
    query = request.args.to_dict(flat=False)
    svg_urls = {name: url_for(".chart_svg", slug=slug, name=name, **query) for name in specs}
    return render_template(
        "reports/report.html",
        survey=ctx.survey,
        page=ctx.page,
        k=ctx.k,
        sections=sections,
        section_names=SECTION_NAMES,
        specs=specs,
        svg_urls=svg_urls,
        rates=rates.to_dict("records"),
        rates_total=total,
        compare_wave=compare_wave(ctx.survey, ctx.page.compare_wave),
        clusters=_cluster_options(ctx),
        bundle_version=_bundle_tag(),
    )


def _cluster_options(ctx: PageContext):
    options = ctx.survey.options.get("cluster", ())
    return [o for o in options if ctx.visible_clusters is None or o.key in ctx.visible_clusters]


@bp.get("/<slug>/charts/<name>.svg")
@allow(*READERS)
def chart_svg(slug: str, name: str):
    """One chart drawn on the server: what pages show in the chart's place when JavaScript is off."""
    if name not in SECTION_NAMES:
        abort(404)
    section = build_sections(_context(slug), [name])[name]
    if section.chart is None:
        abort(404)
    return Response(charts.to_svg(section.chart), mimetype="image/svg+xml")


def _bundle_tag() -> str:
    """What the bundle's URL carries, so that a new vl-convert (new Vega) gets a new URL."""
    return f"{version('vl-convert-python')}-{charts.VEGA_LITE_VERSION}"


@cache
def _bundle() -> bytes:
    """Vega, Vega-Lite and Vega-Embed in one script, made once per process (about two seconds) by vl-convert,
    which ships the same versions it draws the server-side SVG with. Nothing is fetched from the internet."""
    return charts.javascript_bundle().encode("utf-8")


@bp.get("/vega.js")
@public
def vega_bundle():
    body, tag = _bundle(), _bundle_tag()
    response = Response(body, mimetype="text/javascript")
    # The URL carries the version tag, so browsers may keep the 900 kB script for good.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.set_etag(tag)
    return response.make_conditional(request)
