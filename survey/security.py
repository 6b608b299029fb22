"""Response headers that every page gets (see ../shared/reference/security.md, item 4)."""

from __future__ import annotations

from flask import Flask, Response, abort, request
from flask_babel import gettext

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Invitation links carry a secret: never send them on as a referrer.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if not request.path.startswith("/static/"):
        # Pages hold answers or scoped results: no shared cache may keep them.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


#: Methods that change something, and so must come from the site's own pages.
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _same_origin_only() -> None:
    """Refuse a form sent from another site, before its CSRF token is looked at (defence in depth: the token
    is still required). Browsers say where a request comes from in `Sec-Fetch-Site` and `Origin`; a page of
    ours sends "same-origin" and either its own origin or "null" (what `no-referrer` makes of it).

    The JSON API is left out: it takes tokens in the Authorization header, never cookies, so another site's
    page cannot act with a user's rights there."""
    if request.method not in _UNSAFE or request.path.startswith("/api/"):
        return
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    own = f"{request.scheme}://{request.host}"
    if site in ("cross-site", "same-site") or (origin not in (None, "null") and origin != own):
        abort(400, gettext("This form was sent from another site. Open the page on this site and try again."))


def init_app(app: Flask) -> None:
    """Call before CSRFProtect is set up, so that a cross-site form is refused before its token is checked."""
    app.before_request(_same_origin_only)
    app.after_request(_security_headers)
