"""Who may use which view, and which clusters they may see (security requirement 6: deny by default).

Every view declares its audience with `@allow(...)` or `@public`, placed *below* the route decorator::

    @bp.get("/<slug>")
    @allow("manager", "policymaker", "admin")
    def report(slug): ...

One check before every request enforces the declaration; an endpoint that declared nothing is refused to
everyone, so a forgotten decorator fails closed. Views then narrow what they show with
`visible_cluster_ids()` or `cluster_or_404()`: a manager asking for another cluster's data gets a 404, as if
the cluster did not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request
from flask_login import current_user

from survey.extensions import login_manager
from survey.models import Cluster, Role
from survey.queries.lookups import by_slug

log = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., Any])

#: The audience of views anyone may use.
PUBLIC = "public"

#: Endpoints that are public without a decorator of ours: static files, and the respondents' pages, whose
#: secret invitation link is the respondent's credential.
PUBLIC_ENDPOINTS = frozenset({"static"})
PUBLIC_BLUEPRINTS = frozenset({"respond"})

#: Roles that see every cluster.
ALL_CLUSTER_ROLES = frozenset({Role.ADMIN, Role.POLICYMAKER})


def allow(*roles: str | Role) -> Callable[[View], View]:
    """Declare the roles that may use a view ("admin", "manager", "policymaker")."""
    audience = frozenset(Role(role) for role in roles)  # a misspelt role fails at import time
    if not audience:
        raise ValueError("allow() needs at least one role; use @public for views anyone may use")

    def declare(view: View) -> View:
        view.audience = audience  # type: ignore[attr-defined]
        return view

    return declare


def public(view: View) -> View:
    """Declare a view that anyone may use, logged in or not."""
    view.audience = PUBLIC  # type: ignore[attr-defined]
    return view


def audience_of(app: Flask, endpoint: str) -> frozenset[Role] | str | None:
    """The declared audience of an endpoint: a set of roles, PUBLIC, or None when it declared nothing."""
    if endpoint in PUBLIC_ENDPOINTS or endpoint.partition(".")[0] in PUBLIC_BLUEPRINTS:
        return PUBLIC
    return getattr(app.view_functions.get(endpoint), "audience", None)


def is_api_request() -> bool:
    """API clients get status codes (401) where people get pages (a redirect to the log-in page)."""
    return request.path.startswith("/api/")


def visible_cluster_ids() -> frozenset[int] | None:
    """The ids of the clusters the current user may see: None means all (admins and policymakers)."""
    if not current_user.is_authenticated:
        return frozenset()
    if current_user.role in ALL_CLUSTER_ROLES:
        return None
    if current_user.role is Role.MANAGER:
        return frozenset(cluster.id for cluster in current_user.clusters)
    return frozenset()


def can_see_cluster(cluster_id: int) -> bool:
    visible = visible_cluster_ids()
    return visible is None or cluster_id in visible


def cluster_or_404(slug: str) -> Cluster:
    """The cluster with this slug, if the current user may see it; otherwise 404, as for an unknown slug."""
    cluster = by_slug(Cluster, slug)
    if cluster is None or not can_see_cluster(cluster.id):
        abort(404)
    return cluster


def _enforce_audience():
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: the 404 or 405 follows
        return None
    audience = audience_of(current_app, endpoint)
    if audience == PUBLIC:
        return None
    if audience is None:
        log.error("endpoint %s declares no audience; refused (use @allow or @public)", endpoint)
        abort(403)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in audience:
        abort(403)
    return None


def init_app(app: Flask) -> None:
    """Call before CSRFProtect is set up, so that an intruder is refused before anything else is looked at."""
    app.before_request(_enforce_audience)
