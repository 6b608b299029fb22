"""Technology adoption survey platform for industrial and technology clusters."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import get_locale

from config import INSTANCE_DIR, load_config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Application factory: `flask --app survey …` and gunicorn's `survey:create_app()` both come here."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_mapping(load_config())
    if overrides:
        app.config.from_mapping(overrides)
    os.makedirs(app.instance_path, exist_ok=True)

    from survey import (
        access,
        auth,
        cache,
        cli,
        database,
        errors,
        languages,
        routing,
        security,
        weblog,
    )
    from survey.extensions import babel, csrf, db, limiter, migrate
    from survey.operations.answering_time import estimate_for
    from survey.questionnaire import EU_EEA
    from survey.views import (
        admin,
        api,
        charts,
        downloads,
        health,
        home,
        mailings,
        managers,
        privacy,
        reports,
        respondents,
    )
    from survey.views import auth as auth_views

    db.init_app(app)
    database.init_app(app)
    cache.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    babel.init_app(app, locale_selector=languages.select_locale)
    app.after_request(languages.remember_choice)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["language_choice"] = languages.language_choice
    app.jinja_env.filters["datetimeformat"] = languages.format_moment  # with the time zone
    app.jinja_env.globals["eu_eea"] = EU_EEA  # the questionnaire's country list groups them first
    app.jinja_env.globals["answering_estimate"] = estimate_for  # "about N minutes", measured where it can be
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    # Who may use a view is checked before the CSRF token, so that intruders are turned away first.
    access.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    auth.init_app(app)
    limiter.init_app(app)
    routing.init_app(app)

    # The questionnaire checks its CSRF token in the form itself, so that a failed check gives the form back
    # with the respondent's answers instead of a bare 400 page.
    csrf.exempt(respondents.bp)
    app.register_blueprint(respondents.bp)
    for blueprint in (auth_views.bp, managers.bp, mailings.bp, admin.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(reports.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(charts.bp)
    # Reading endpoints take a personal API token or a session; submitting takes an invitation token in the
    # Authorization header, never a cookie: no CSRF token to check.
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(privacy.bp)
    errors.init_app(app)
    weblog.init_app(app)
    cli.init_app(app)
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops:
        # The client's address and scheme as the proxies report them: rate limits then count each client, not
        # the proxy (behind which ten wrong passwords locked every member of staff out).
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app
