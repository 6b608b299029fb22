"""Configuration from the environment: safe defaults, and production refuses an unsafe set-up."""

from __future__ import annotations

import os

import pytest

from config import ConfigError, load_config


def test_development_defaults_to_sqlite_under_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = load_config("development")
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["SQLALCHEMY_DATABASE_URI"].endswith("/instance/survey.sqlite3")
    assert config["MIN_CELL_SIZE"] == 5
    assert config["SESSION_COOKIE_SECURE"] is False


def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        load_config("production")
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="at least 32"):
        load_config("production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    config = load_config("production")
    assert config["SESSION_COOKIE_SECURE"] is True and config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("given", ["postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"])
def test_postgresql_urls_use_psycopg3(monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", given)
    monkeypatch.setenv("REPORTS_DATABASE_URL", given.replace("@h/", "@replica/"))
    config = load_config("development")
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert config["REPORTS_DATABASE_URI"] == "postgresql+psycopg://u@replica/db"


def test_bad_numbers_and_environments_are_explained(monkeypatch):
    monkeypatch.setenv("MIN_CELL_SIZE", "2")
    with pytest.raises(ConfigError, match="MIN_CELL_SIZE must be at least 3"):
        load_config("development")
    monkeypatch.setenv("MIN_CELL_SIZE", "five")
    with pytest.raises(ConfigError, match="MIN_CELL_SIZE must be a whole number"):
        load_config("development")
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_config("staging")


@pytest.mark.parametrize(
    ("extra", "starts"),
    [
        ({"GUNICORN_WORKERS": "3"}, False),
        ({"GUNICORN_WORKERS": "1"}, True),
        ({"GUNICORN_WORKERS": "3", "REDIS_URL": "redis://127.0.0.1:6379/0"}, True),
    ],
    ids=["several-workers-in-memory", "one-worker", "several-workers-with-redis"],
)
def test_production_refuses_several_workers_counting_limits_in_memory(tmp_path, extra, starts):
    import subprocess
    import sys
    from pathlib import Path

    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("REDIS", "RATELIMIT", "GUNICORN"))
    }
    environment.update(APP_ENV="production", SECRET_KEY="s" * 40, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    environment.update(extra)
    checked = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "survey:create_app()"],
        cwd=Path(__file__).resolve().parents[1],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (checked.returncode == 0) is starts, checked.stdout + checked.stderr
    if not starts:
        assert "rate limits counted in memory" in checked.stdout + checked.stderr
