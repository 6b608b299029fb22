"""The command-line interface (`flask --app survey …`): one module per group of commands, the demo data beside them."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from survey.cli import mail, surveys, tallies, users

    for command in (
        surveys.demo_command,
        surveys.invitations_group,
        surveys.surveys_group,
        mail.reminders_group,
        mail.mail_group,
        tallies.tallies_group,
        users.users_group,
        users.tokens_group,
    ):
        app.cli.add_command(command)
