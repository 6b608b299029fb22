"""Authentication: argon2 password hashes, and how Flask-Login finds the user of a request.

A browser is logged in through a server-side login session (see `LoginSession`): the cookie carries a random
token, and the user is whoever that token's record belongs to. Log-out deletes the record, so a copy of the
cookie kept from before is worth nothing. API clients send a personal token as `Authorization: Bearer …`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from survey import clock
from survey.access import is_api_request
from survey.extensions import db, login_manager
from survey.models import ApiToken, LoginSession, Role, User, hash_token

log = logging.getLogger(__name__)

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.MANAGER: _l("Cluster manager"),
    Role.POLICYMAKER: _l("Policymaker"),
}

#: Prefix of personal API tokens, so that secret scanners and people recognise one.
API_TOKEN_PREFIX = "cts_"


@cache
def _hasher(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(getattr(profiles, profile))


def _current_hasher() -> PasswordHasher:
    return _hasher(current_app.config["ARGON2_PROFILE"])


def hash_password(password: str) -> str:
    return _current_hasher().hash(password)


@cache
def _dummy_hash(profile: str) -> str:
    return _hasher(profile).hash("a password nobody has")


def verify_password(user: User | None, password: str) -> bool:
    """True when the password is the user's. For an unknown or deactivated user the same work is done
    against a dummy hash, so that the answer takes as long as for a wrong password."""
    hasher = _current_hasher()
    stored = user.password_hash if user is not None else _dummy_hash(current_app.config["ARGON2_PROFILE"])
    try:
        matches = hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        matches = False
    return matches and user is not None and user.active


def needs_rehash(user: User) -> bool:
    """True when the stored hash was made with weaker parameters than the configured ones."""
    return _current_hasher().check_needs_rehash(user.password_hash)


#: Where each role lands after logging in, and from the site root.
HOME_ENDPOINTS = {Role.ADMIN: "admin.index", Role.MANAGER: "manage.index", Role.POLICYMAKER: "reports.index"}


def home_url(user: User) -> str:
    return url_for(HOME_ENDPOINTS[user.role])


def safe_next(target: str | None) -> str | None:
    """A `next` address to go to after log-in, only when it is a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):  # CR/LF would split the Location header
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def find_login_session(token: str) -> LoginSession | None:
    """The login session behind a cookie's token, unless it has outlived LOGIN_SESSION_HOURS."""
    login = db.session.scalars(select(LoginSession).filter_by(token_hash=hash_token(token))).one_or_none()
    lifetime = timedelta(hours=current_app.config["LOGIN_SESSION_HOURS"])
    if login is None or login.created_at < clock.now() - lifetime:
        return None
    return login


def find_api_token_user(token: str) -> User | None:
    """The active user a personal API token belongs to."""
    if not token.startswith(API_TOKEN_PREFIX):
        return None
    api_token = db.session.scalars(select(ApiToken).filter_by(token_hash=hash_token(token))).one_or_none()
    return api_token.user if api_token is not None and api_token.user.active else None


@login_manager.user_loader
def _load_from_session(token: str) -> User | None:
    login = find_login_session(token)
    if login is None or not login.user.active:
        return None
    login.user.session_token = token
    return login.user


@login_manager.request_loader
def _load_from_bearer_token(req) -> User | None:
    """Personal API tokens count only on the API, never on the pages people use in a browser."""
    if not is_api_request():
        return None
    scheme, _space, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return find_api_token_user(token.strip())


@login_manager.unauthorized_handler
def _unauthorized():
    if is_api_request():
        response = jsonify(error=_("Authentication required: log in or send a personal API token."), status=401)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target))


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[Role(role)])


def init_app(app: Flask) -> None:
    if app.config["APP_ENV"] == "production" and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        log.warning("log-in limits are counted per worker process; set RATELIMIT_STORAGE_URL to a Redis URL")
    login_manager.init_app(app)
    app.jinja_env.globals["role_label"] = role_label
    app.before_request(_own_password_first)


#: What a user whose password an admin made may still do before choosing their own.
_BEFORE_OWN_PASSWORD = frozenset({"auth.change_password", "auth.logout", "static"})


def _own_password_first():
    """A password an admin made (and saw) is changed before anything else (survey/views/admin.py)."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in _BEFORE_OWN_PASSWORD
        and request.blueprint != "api"
    ):
        flash(_("Please choose a password of your own: the one you were given was made by an administrator."))
        return redirect(url_for("auth.change_password"))
    return None
