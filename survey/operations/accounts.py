"""Accounts: creating and changing users, logging in and out, personal API tokens."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from survey.auth import API_TOKEN_PREFIX, hash_password, needs_rehash, verify_password
from survey.extensions import db
from survey.models import ApiToken, Cluster, LoginSession, Role, User, hash_token

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is for the person who asked."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalars(select(User).filter_by(email=normalise_email(email))).one_or_none()


def check_new_password(password: str) -> None:
    """Length is what makes a password strong; no composition rules (NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(_("The password can have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH))


def generate_password() -> str:
    """A password for a new account or a reset, for the admin to pass on; the user should change it."""
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def _check_clusters(role: Role, clusters: Iterable[Cluster]) -> list[Cluster]:
    clusters = list(clusters)
    if role is Role.MANAGER and not clusters:
        raise AccountError(_("A cluster manager needs at least one cluster."))
    # Only managers are scoped to clusters; the other roles see all of them anyway.
    return clusters if role is Role.MANAGER else []


def create_user(email: str, password: str, role: Role, clusters: Iterable[Cluster] = ()) -> User:
    """Create an account. The address must already be checked for form; it must not be taken."""
    address = normalise_email(email)
    if find_user(address) is not None:
        raise AccountError(_("There is already an account with this e-mail address."))
    check_new_password(password)
    user = User(
        email=address,
        password_hash=hash_password(password),
        role=role,
        clusters=_check_clusters(role, clusters),
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    return user


def set_role(user: User, role: Role, clusters: Iterable[Cluster], acting: User) -> None:
    if user.id == acting.id and role is not user.role:
        raise AccountError(_("You cannot change your own role: ask another administrator."))
    user.clusters = _check_clusters(role, clusters)
    user.role = role
    db.session.flush()


def end_all_sessions(user: User, except_token: str | None = None) -> None:
    statement = delete(LoginSession).where(LoginSession.user_id == user.id)
    if except_token is not None:
        statement = statement.where(LoginSession.token_hash != hash_token(except_token))
    db.session.execute(statement)


def end_api_tokens(user: User) -> None:
    """Delete every personal API token of the user: they are credentials as strong as a password."""
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def deactivate_user(user: User, acting: User) -> None:
    """Stop an account from logging in; its sessions and API tokens end now, and do not come back with a
    reactivation."""
    if user.id == acting.id:
        raise AccountError(_("You cannot deactivate your own account."))
    user.active = False
    end_all_sessions(user)
    end_api_tokens(user)
    db.session.flush()


def activate_user(user: User) -> None:
    user.active = True
    db.session.flush()


def set_password(user: User, password: str, keep_session: str | None = None) -> None:
    """Change the password and end every other session of the user and all their API tokens (a thief's, say,
    made with the old password); the user makes new tokens on the account page."""
    check_new_password(password)
    user.password_hash = hash_password(password)
    user.must_change_password = False
    end_all_sessions(user, except_token=keep_session)
    end_api_tokens(user)
    db.session.flush()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail address and password, or None, in about the same time either way."""
    # Input that cannot be an address (too long, or with a NUL byte PostgreSQL refuses) is an unknown user.
    user = find_user(email) if len(email) <= 254 and "\x00" not in email else None
    if not verify_password(user, password):
        return None
    assert user is not None
    if needs_rehash(user):  # the configured argon2 parameters were raised since the hash was made
        user.password_hash = hash_password(password)
    return user


def start_login_session(user: User, now: datetime) -> str:
    """Record a new login session for the user and return its token, for the session cookie."""
    lifetime = timedelta(hours=current_app.config["LOGIN_SESSION_HOURS"])
    db.session.execute(
        delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.created_at < now - lifetime)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=hash_token(token), created_at=now))
    db.session.flush()
    user.session_token = token
    return token


def end_login_session(token: str) -> None:
    db.session.execute(delete(LoginSession).where(LoginSession.token_hash == hash_token(token)))


def create_api_token(user: User, name: str, now: datetime) -> tuple[ApiToken, str]:
    """A new personal API token; the token itself is returned once and only its hash is kept."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    api_token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(token), created_at=now)
    db.session.add(api_token)
    db.session.flush()
    return api_token, token


def revoke_api_token(api_token: ApiToken) -> None:
    db.session.delete(api_token)
    db.session.flush()
