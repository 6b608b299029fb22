"""Configuration, read from environment variables with safe development defaults.

`load_config()` returns a plain dict for `app.config.from_mapping`. Production
(`APP_ENV=production`) refuses to start without a real SECRET_KEY.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

_DEV_SECRET = "dev-only-secret-key-not-for-production"


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app can run with."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Let people paste the URLs their hosting gives them (`postgres://…`) and still get psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(env: str | None = None) -> dict[str, object]:
    """Build the app configuration for `env` (development, testing or production)."""
    env = env or os.environ.get("APP_ENV", "development")
    if env not in {"development", "testing", "production"}:
        raise ConfigError(f"APP_ENV must be development, testing or production, got {env!r}")

    secret = os.environ.get("SECRET_KEY", "")
    if not secret:
        if env == "production":
            raise ConfigError("SECRET_KEY must be set in production (a long random string).")
        secret = _DEV_SECRET
    elif env == "production" and (secret == _DEV_SECRET or len(secret) < 32):
        raise ConfigError("SECRET_KEY must be at least 32 random characters in production.")

    mail_security = os.environ.get("MAIL_SECURITY", "starttls")
    if mail_security not in {"starttls", "ssl", "none"}:
        raise ConfigError(f"MAIL_SECURITY must be starttls, ssl or none, got {mail_security!r}")
    if os.environ.get("MAIL_SERVER") and not os.environ.get("MAIL_FROM"):
        raise ConfigError("MAIL_FROM (the sender address of invitation e-mails) must be set with MAIL_SERVER.")

    if _int("MIN_CELL_SIZE", 5) < 3:
        # Below 3 a group can be one or two organisations who know each other's answers (OECD: 3 or 5).
        raise ConfigError("MIN_CELL_SIZE must be at least 3 (the default is 5).")

    default_db = f"sqlite:///{INSTANCE_DIR / 'survey.sqlite3'}"
    database_url = normalise_database_url(os.environ.get("DATABASE_URL", default_db))

    return {
        "APP_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # pool_pre_ping lets the app recover from a database restart without being restarted itself.
        # hide_parameters: a failed statement's error (and so its log line) never carries the values bound to it,
        # which for a submission are the organisation's profile and answers.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        # A read replica of the database for reports (survey/database.py: report_connection); empty: none.
        "REPORTS_DATABASE_URI": normalise_database_url(os.environ.get("REPORTS_DATABASE_URL", "")),
        # The privacy notice at /privacy: who is responsible for the answers, and how long they are kept.
        "DATA_CONTROLLER": os.environ.get("DATA_CONTROLLER", ""),
        "RETENTION_YEARS": _int("RETENTION_YEARS", 10),
        # Groups with fewer responses than this are withheld in every output.
        "MIN_CELL_SIZE": _int("MIN_CELL_SIZE", 5),
        # Absolute links (CLI output, e-mails) are built from this.
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "en"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("DEFAULT_TIMEZONE", "UTC"),
        # Narrows the languages offered (survey.languages.OFFERED, those whose catalogues are complete).
        "LANGUAGES": tuple(code.strip() for code in os.environ.get("LANGUAGES", "").split(",") if code.strip()),
        # Respondents keep the questionnaire open for a long time; a CSRF token lives as long as the session.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_ENABLED": _bool("WTF_CSRF_ENABLED", True),
        # Flask-WTF's strict check wants a Referer on every HTTPS form, which browsers never send under the pages'
        # `Referrer-Policy: no-referrer` (kept so that invitation links never leak): behind TLS every staff form,
        # log-in included, answered 400. The token stays required; `survey.security` refuses cross-site posts.
        "WTF_CSRF_SSL_STRICT": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 1_000_000),
        # A login session ends at log-out or after this many hours, whichever comes first.
        "LOGIN_SESSION_HOURS": _int("LOGIN_SESSION_HOURS", 12),
        # argon2 parameters by the name of an argon2.profiles preset; the tests use the cheapest one.
        "ARGON2_PROFILE": os.environ.get("ARGON2_PROFILE", "CHEAPEST" if env == "testing" else "RFC_9106_LOW_MEMORY"),
        "RATELIMIT_ENABLED": True,
        # Rate-limit counts live in memory, per worker process, unless this points at Redis (as it should in
        # production, where several workers share the limits), e.g. redis://127.0.0.1:6379/0.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URL") or os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "survey"),
        # Report results are cached here (survey/cache.py): a Redis URL shared by every app server in production,
        # "memory://" for one process, or empty for no cache (the default). REDIS_URL sets this and the
        # rate-limit storage at once.
        "REPORT_CACHE_URL": os.environ.get("REPORT_CACHE_URL", os.environ.get("REDIS_URL", "")),
        "REPORT_CACHE_PREFIX": os.environ.get("REPORT_CACHE_PREFIX", "survey-report"),
        # Entries are never stale (a submission moves its wave's version); the TTL only frees memory.
        "REPORT_CACHE_TTL": _int("REPORT_CACHE_TTL", 3600),
        # Failed log-ins allowed per client address (Flask-Limiter notation; several limits joined by ";").
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        # Failed log-ins allowed per account, from any address (password guessing spread over many addresses).
        "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "20 per hour"),
        # Saves and submissions per invitation link, and unknown links tried per client address (guessing).
        "RESPONDENT_RATE_LIMIT": os.environ.get("RESPONDENT_RATE_LIMIT", "30 per minute;300 per hour"),
        "LINK_GUESS_RATE_LIMIT": os.environ.get("LINK_GUESS_RATE_LIMIT", "20 per minute;100 per hour"),
        # API reads per user (token or session).
        "API_READ_RATE_LIMIT": os.environ.get("API_READ_RATE_LIMIT", "120 per minute"),
        # How many proxies in front of the app add X-Forwarded-For and X-Forwarded-Proto (1 behind nginx). The
        # client address rate limits count is the one the nearest trusted proxy reports; 0 trusts no header.
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        # Invitation e-mails are sent only when MAIL_SERVER is set. MAIL_SECURITY: starttls, ssl or none.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int("MAIL_PORT", 587),
        "MAIL_SECURITY": mail_security,
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", ""),
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 30),
        "TESTING": env == "testing",
    }
