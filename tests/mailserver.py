"""A real SMTP server on the loopback interface (aiosmtpd) for the tests that send mail: `inbox` keeps what it
receives and refuses the addresses in `inbox.refuse`, as a mail server refuses an unknown mailbox. Also the
members such tests mail (a module may define a `members` of its own), and a manager's way of sending.
"""

from __future__ import annotations

import os
import socket
from email import message_from_bytes, policy

import pytest


def free_port() -> int:
    """A port in the range this project may use for servers of its own (5200-5299): a half of it per test worker,
    since two workers probing the same port at once could both find it free."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % 2
    for port in range(5200 + 50 * worker, 5250 + 50 * worker):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 5200-5299")


class Inbox:
    """An aiosmtpd handler that keeps what it receives, and refuses the addresses in `refuse`."""

    def __init__(self) -> None:
        self.messages = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        # Lines as a mail client shows them: SMTP carries them ended by CR LF.
        self.messages.append(message_from_bytes(envelope.content.replace(b"\r\n", b"\n"), policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]


@pytest.fixture
def inbox(app):
    from aiosmtpd.controller import Controller

    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_SECURITY="none",
        MAIL_FROM="Cluster survey <survey@cluster.example>",
    )
    yield handler
    controller.stop()


@pytest.fixture
def members(cluster_a, open_wave):
    """Members of cluster A: two with contact persons (one with two), one without."""
    from survey.extensions import db
    from survey.models import Organisation
    from survey.operations.setup import add_contact

    created = {}
    for name in ("Able", "Baker", "Charlie"):
        organisation = Organisation(
            name=name, country="ES", org_type="sme", size_class="small", ecosystem="digital", clusters=[cluster_a]
        )
        db.session.add(organisation)
        created[name] = organisation
    db.session.flush()
    add_contact(created["Able"], "able@example.org", "Alba Able")
    add_contact(created["Able"], "second@example.org", "")
    add_contact(created["Baker"], "baker@example.org", "Bo Baker")
    db.session.commit()
    return created


def send_as_manager(client, wave, kind: str):
    """Send as a manager does: the wave page's button, then the preview's (the first post sends nothing)."""
    from tests.conftest import csrf_token

    page = f"/manage/alpha/waves/{wave.slug}"
    html = client.get(page).get_data(as_text=True)
    preview = client.post(f"{page}/send", data={"kind": kind, "csrf_token": csrf_token(html)})
    if preview.status_code != 200 or "Check before sending" not in preview.get_data(as_text=True):
        return preview  # nobody to send to, or refused
    return client.post(f"{page}/send", data={"kind": kind, "confirmed": "1", "csrf_token": csrf_token(html)})
