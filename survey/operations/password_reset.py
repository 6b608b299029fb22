"""Password reset by e-mail: a link that works once, for an hour, and is stored nowhere.

The link's token is signed with the app's key and names the user and a fingerprint of their password hash:
setting any new password changes the hash, so a used link (or one older than the last change) no longer works.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from survey.extensions import db
from survey.models import User

#: How long a reset link works.
RESET_SECONDS = 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt="password-reset")


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def reset_token(user: User) -> str:
    return _serializer().dumps({"user": user.id, "password": _fingerprint(user)})


def user_for_reset(token: str) -> User | None:
    """The active user a reset link is for, if it is genuine, not older than an hour and not used yet."""
    try:
        data = _serializer().loads(token[:500], max_age=RESET_SECONDS)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("user")) if isinstance(data.get("user"), int) else None
    if user is None or not user.active or data.get("password") != _fingerprint(user):
        return None
    return user
