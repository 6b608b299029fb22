"""What every report request shares (the page, its chart images, the downloads, the API): who may read
reports, the wave as reports see it, the query parameters checked against it, and the page's context."""

from __future__ import annotations

from babel import Locale
from flask import abort, current_app, request
from flask_babel import get_locale, gettext

from reports import charts
from reports.context import Survey
from reports.dimensions import InvalidQuery, PageQuery, parse_page_query, requested_values
from reports.sections import PageContext
from reports.sections import section_titles as _section_titles
from survey.access import visible_cluster_ids
from survey.cache import cached_survey
from survey.database import report_connection
from survey.models import Wave, WaveState
from survey.queries.lookups import by_slug

_ENGLISH = Locale("en")

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


def not_yet_published(slug: str) -> bool:
    """Is this an open wave, whose results every reader sees once it closes (`Wave.results_published`)?"""
    wave = by_slug(Wave, slug)
    return wave is not None and wave.state is WaveState.OPEN


def survey_or_404(slug: str) -> Survey:
    survey = cached_survey(
        report_connection(), slug, translate=gettext, locale=str(get_locale() or "en"), published_only=True
    )
    if survey is None:
        if not_yet_published(slug):
            abort(404, gettext("The results of this survey wave are published when it closes."))
        abort(404, gettext("There is no survey wave at this address."))
    return survey


def page_query(survey: Survey, visible: frozenset[int] | None) -> PageQuery:
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


def chart_text() -> charts.ChartText:
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
        withheld=gettext("Withheld (to protect individual answers)"),
        locale=str(get_locale() or _ENGLISH),
        short_answers={
            "using": gettext("Using"),
            "planning": gettext("Planning"),
            "not_planned": gettext("No plans"),
            "dont_know": gettext("Don't know"),
        },
    )


def page_context(slug: str) -> PageContext:
    """The report page's context for this wave and the request's query parameters (400 or 404 when wrong)."""
    survey = survey_or_404(slug)
    visible = visible_cluster_ids()
    page = page_query(survey, visible)
    return PageContext(
        conn=report_connection(),
        survey=survey,
        page=page,
        k=current_app.config["MIN_CELL_SIZE"],
        visible_clusters=visible,
        text=chart_text(),
    )


def section_titles() -> dict[str, str]:
    """The report's section headings in the reader's language, as the page, the chart downloads and the brief
    show them."""
    return _section_titles(gettext)


def cache_parts(ctx: PageContext, *extra: object) -> tuple[object, ...]:
    """Everything besides the waves' data that a page's results depend on, for the report cache's key."""
    visible = None if ctx.visible_clusters is None else tuple(sorted(ctx.visible_clusters))
    return (ctx.survey.slug, ctx.page, ctx.k, visible, str(get_locale()), *extra)


def waves_read(ctx: PageContext) -> list[int]:
    """The page's charts read the survey's wave and the one it is compared with: any of its survey's waves."""
    return [ctx.survey.wave_id, *(int(option.key) for option in ctx.survey.options.get("wave", ()))]
