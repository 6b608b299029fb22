"""Command-line account management: `flask --app survey users create …` and `tokens create …`."""

from __future__ import annotations

import sys

import click
from email_validator import EmailNotValidError, validate_email

from survey import clock
from survey.extensions import db
from survey.models import Cluster, Role
from survey.operations.accounts import AccountError, create_api_token, create_user, find_user
from survey.queries.lookups import by_slug


def _read_password() -> str:
    """Hidden and asked twice on a terminal; otherwise the first line of standard input (for scripts)."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.group("users")
def users_group() -> None:
    """Accounts of admins, cluster managers and policymakers."""


@users_group.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]), help="What the user may do.")
@click.option(
    "--cluster",
    "cluster_slugs",
    multiple=True,
    metavar="SLUG",
    help="A cluster the manager manages; repeat for several. Needed for --role manager.",
)
def create_user_command(email: str, role: str, cluster_slugs: tuple[str, ...]) -> None:
    """Create an account. The password is read from standard input."""
    try:
        address = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.UsageError(f"EMAIL: {exc}") from exc
    clusters = []
    for slug in cluster_slugs:
        cluster = by_slug(Cluster, slug)
        if cluster is None:
            raise click.UsageError(f"no cluster {slug!r}")
        clusters.append(cluster)
    if clusters and role != Role.MANAGER.value:
        raise click.UsageError("--cluster is only for --role manager; the other roles see every cluster")
    try:
        user = create_user(address, _read_password(), Role(role), clusters)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    scope = f" of {', '.join(c.slug for c in user.clusters)}" if user.clusters else ""
    click.echo(f"Created {user.role.value}{scope}: {user.email}")


@click.group("tokens")
def tokens_group() -> None:
    """Personal API tokens."""


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", default="created on the command line", show_default=True, help="A label for the token.")
def create_token_command(email: str, name: str) -> None:
    """Create a personal API token for the user and print it on one line (it is stored only as a hash)."""
    user = find_user(email)
    if user is None or not user.active:
        raise click.UsageError(f"no active user {email!r}")
    _api_token, token = create_api_token(user, name[:100], clock.now())
    db.session.commit()
    click.echo(token)
