"""The site root: staff go to their home page (survey.auth.home_url), everyone else to the log-in page."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user

from survey.access import public
from survey.auth import home_url

bp = Blueprint("home", __name__)


@bp.get("/")
@public
def home():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))
