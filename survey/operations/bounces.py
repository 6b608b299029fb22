"""Bounces that arrive after sending: delivery status notifications (RFC 3464) read with the standard
library's parser, and the contact addresses they name marked as bouncing (`flask mail bounce`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import Message

from sqlalchemy import func, select

from survey.extensions import db
from survey.models import Contact, DeliveryProblem


@dataclass(frozen=True)
class Bounce:
    """One recipient a notification says could not be reached."""

    #: The recipient as the message was addressed (Original-Recipient, else Final-Recipient).
    addresses: tuple[str, ...]
    #: The status code and the remote server's words, e.g. "5.1.1 smtp; 550 5.1.1 User unknown".
    error: str


def _address(field: str | None) -> str | None:
    """The address of an "rfc822; name@example.org" field (other address types name no e-mail address)."""
    kind, _, address = (field or "").partition(";")
    address = address.strip().strip("<>").strip()
    return address if kind.strip().lower() == "rfc822" and "@" in address else None


def read_bounces(data: bytes) -> list[Bounce] | None:
    """The failed recipients of a delivery status notification; None when the message is not one (an
    out-of-office reply, say). Delayed, relayed or delivered recipients are not failures."""
    message = message_from_bytes(data, policy=policy.default)
    reports = [part for part in message.walk() if part.get_content_type() == "message/delivery-status"]
    if not reports:
        return None
    bounces = []
    for report in reports:
        blocks = report.get_payload()
        if not isinstance(blocks, list):
            continue
        # The first block describes the message; each one after it, a recipient.
        for block in blocks[1:]:
            if not isinstance(block, Message) or str(block.get("Action", "")).strip().lower() != "failed":
                continue
            found = [_address(block.get("Original-Recipient")), _address(block.get("Final-Recipient"))]
            addresses = tuple(dict.fromkeys(address for address in found if address))
            if not addresses:
                continue
            status = str(block.get("Status", "")).split()[:1]
            diagnostic = str(block.get("Diagnostic-Code", ""))
            bounces.append(Bounce(addresses, " ".join([*status, diagnostic]).strip()))
    return bounces


def mark_bounced(bounces: list[Bounce], now: datetime) -> list[Contact]:
    """Mark every contact with an address that bounced (an address may belong to several members); the
    contacts marked."""
    marked = []
    for bounce in bounces:
        wanted = [address.lower() for address in bounce.addresses]
        for contact in db.session.scalars(select(Contact).where(func.lower(Contact.email).in_(wanted))):
            contact.record_problem(DeliveryProblem.BOUNCED, bounce.error or "bounced", now)
            marked.append(contact)
    db.session.flush()
    return marked
