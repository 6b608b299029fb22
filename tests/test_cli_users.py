"""`flask users create`, `flask tokens create` and the demo accounts printed by `flask demo`."""

from __future__ import annotations

from sqlalchemy import select

from survey.extensions import db
from survey.models import ApiToken, Role, User, hash_token
from tests.accounts import PASSWORD, log_in


def _user(email: str) -> User | None:
    return db.session.scalars(select(User).filter_by(email=email)).one_or_none()


def test_users_create_reads_the_password_from_standard_input(runner, client, cluster_a, cluster_b):
    result = runner.invoke(
        args=["users", "create", "Lead@Example.org", "--role", "manager", "--cluster", "alpha", "--cluster", "beta"],
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Created manager of alpha, beta: lead@example.org"
    user = _user("lead@example.org")
    assert user.role is Role.MANAGER and [c.slug for c in user.clusters] == ["alpha", "beta"]
    assert PASSWORD not in user.password_hash
    assert log_in(client, "lead@example.org").status_code == 303


def test_users_create_refuses_bad_input(runner, cluster_a, admin):
    cases = [
        (["users", "create", "not-an-address", "--role", "admin"], "EMAIL"),
        (["users", "create", "x@example.org", "--role", "emperor"], "Invalid value for '--role'"),
        (["users", "create", "x@example.org", "--role", "manager", "--cluster", "nowhere"], "no cluster 'nowhere'"),
        (["users", "create", "x@example.org", "--role", "manager"], "needs at least one cluster"),
        (
            ["users", "create", "x@example.org", "--role", "policymaker", "--cluster", "alpha"],
            "only for --role manager",
        ),
        (["users", "create", "ADMIN@example.org", "--role", "admin"], "already an account"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args, input=f"{PASSWORD}\n")
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    short = runner.invoke(args=["users", "create", "x@example.org", "--role", "admin"], input="short\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    assert _user("x@example.org") is None


def test_tokens_create_prints_one_working_token(runner, policymaker):
    result = runner.invoke(args=["tokens", "create", "POLICY@example.org"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cts_")
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.token_hash == hash_token(lines[0]) and stored.user_id == policymaker.id

    unknown = runner.invoke(args=["tokens", "create", "nobody@example.org"])
    assert unknown.exit_code != 0 and "no active user" in unknown.output


def test_demo_prints_a_log_in_for_each_role(runner, client):
    result = runner.invoke(args=["demo", "--responses", "8"])
    assert result.exit_code == 0, result.output
    logins = [line for line in result.output.splitlines() if line.startswith("Demo log-in as ")]
    assert [line.split()[3].rstrip(":") for line in logins] == ["admin", "manager", "policymaker"]
    for line in logins:
        email, password = line.split()[4], line.split()[-1]
        browser = client.application.test_client()
        assert log_in(browser, email, password).status_code == 303, line
    manager = _user("manager@example.org")
    assert [c.slug for c in manager.clusters] == ["basque-digital"]

    # Run again (as `make run` does on every start): the same log-ins still work.
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and again.output.count("Demo log-in as ") == 3
    assert log_in(client.application.test_client(), "admin@example.org", "demo-admin-password").status_code == 303
