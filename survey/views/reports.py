"""Report pages for cluster managers and policymakers: adoption charts, their numbers and response rates.

Views stay thin: parse the query parameters (reports.dimensions), ask `reports` for the sections, render.
Charts are drawn in the browser by Vega served from this app (no CDN); without JavaScript each chart is an
SVG image drawn on the server (`survey.views.charts`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib.metadata import version
from typing import Any

import orjson
from babel import Locale
from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask.signals import before_render_template, template_rendered
from flask_babel import get_locale
from flask_login import current_user
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape

from reports import charts, results
from reports.formatting import percent_formatter
from reports.frames import records
from reports.sections import SECTION_NAMES, Cell, PageContext, build_sections, compare_wave
from survey.access import allow, public
from survey.cache import cached_invitations, report_cache
from survey.extensions import db
from survey.models import Role, Wave
from survey.report_request import READERS, cache_parts, page_context, section_titles, waves_read

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.app_template_filter("percentformat")
def percentformat(value: float) -> str:
    """Flask-Babel's `percentformat`, with the fast formatter below."""
    return percent_formatter(get_locale() or _ENGLISH)(value)


@bp.app_template_global()
def share_cells(cells: Iterable[Cell], withheld: Markup) -> Markup:
    """A table row's cells of shares (`reports.sections.Cell`), as the report page prints them; `withheld` is
    what a withheld cell says.

    Written here rather than as a template macro: a 100-cluster heat map has 1,600 cells, and the macro's
    attribute look-ups and escaping took a quarter of the page's time."""
    html = []
    for cell in cells:
        if cell.state == "shown":
            html.append(
                f'<td class="num">{escape(cell.share)} '
                f'<span class="ci">({escape(cell.interval)}, n={cell.n:d})</span></td>'
            )
        elif cell.state == "withheld":
            html.append(f'<td class="num">{escape(withheld)}</td>')
        else:
            html.append('<td class="num">–</td>')
    return Markup("".join(html))


_ENGLISH = Locale("en")


@bp.get("/")
@allow(*READERS)
def index():
    """The surveys with results, to choose a report from."""
    waves = db.session.scalars(Wave.with_results()).all()
    return render_template("reports/index.html", waves=waves)


@bp.get("/<slug>")
@allow(*READERS)
def report(slug: str):
    ctx = page_context(slug)
    query = request.args.to_dict(flat=False)
    # The page's main block (numbers, tables, chart specs: 90% of its time) depends only on the cache key's
    # parts, not on who is logged in or their CSRF token, so the rendered block itself is what is cached. Of
    # the reader it shows only what the visible clusters say, and the admins' export link.
    cache = report_cache()
    export_link = current_user.is_authenticated and current_user.role == Role.ADMIN
    key, cached = cache.lookup("page", waves_read(ctx), cache_parts(ctx, sorted(query.items()), export_link))
    page = {"survey": ctx.survey, "bundle_version": _bundle_tag()}
    if cached is not None:
        return _render_report(page, main=cached[0])[0]
    sections = build_sections(ctx)
    rates, total = results.response_rates(
        ctx.conn,
        ctx.survey,
        ctx.k,
        ctx.visible_clusters,
        ctx.current(),
        cached_invitations(ctx.conn, ctx.survey.wave_id),
    )
    specs = {
        name: _spec_json(charts.to_spec(section.chart, validate=False))
        for name, section in sections.items()
        if section.chart is not None
    }
    svg_urls = {name: url_for("charts.svg", slug=slug, name=name, **query) for name in specs}
    html, main = _render_report(
        {
            **page,
            "page": ctx.page,
            "k": ctx.k,
            # The page's numbers are formatted by one formatter for the reader's locale, found once here.
            "percent": ctx.percent,
            "sections": sections,
            "section_names": SECTION_NAMES,
            "titles": section_titles(),
            "specs": specs,
            "svg_urls": svg_urls,
            "rates": records(rates),
            "rates_total": total,
            "compare_wave": compare_wave(ctx.survey, ctx.page.compare_wave),
            "clusters": _cluster_options(ctx),
            "export_link": export_link,
        }
    )
    cache.store_result(key, main)
    return html


def _spec_json(spec: dict[str, Any]) -> Markup:
    """The spec as JSON for the page's <script type="application/json"> element, escaped exactly as `|tojson`
    escapes it (no "<", ">", "&" or "'"), but written by orjson: the json module took ten times as long for
    a 100-cluster heat map."""
    return htmlsafe_json_dumps(spec, dumps=lambda value: orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())


def _render_report(context: dict, main: str | None = None) -> tuple[str, str]:
    """Render reports/report.html as `render_template` does, with its `main` block taken from `main` when given.

    Returns the page and what its main block rendered to (for the cache)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    template = app.jinja_env.get_template("reports/report.html")
    app.update_template_context(context)
    before_render_template.send(app, _async_wrapper=app.ensure_sync, template=template, context=context)
    jinja_context = template.new_context(context)
    render_main = jinja_context.blocks["main"][0]
    rendered: list[str] = [] if main is None else [main]

    def main_block(block_context):
        # Joined here and passed on whole: passed on piece by piece, its thousands of pieces (a heat map's
        # cells) would each go through every template that extends another.
        if not rendered:
            rendered.append(template.environment.concat(render_main(block_context)))  # type: ignore[attr-defined]
        yield rendered[0]

    jinja_context.blocks["main"][0] = main_block
    html = template.environment.concat(template.root_render_func(jinja_context))  # type: ignore[attr-defined]
    template_rendered.send(app, _async_wrapper=app.ensure_sync, template=template, context=context)
    return html, rendered[0]


def _cluster_options(ctx: PageContext):
    options = ctx.survey.options.get("cluster", ())
    return [o for o in options if ctx.visible_clusters is None or o.key in ctx.visible_clusters]


@cache
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
