"""Sending e-mail over SMTP (standard library), when MAIL_SERVER is configured.

Nothing here logs an address or a message body: both hold personal data or secret links.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

from flask import current_app

log = logging.getLogger(__name__)


class MailError(Exception):
    """The mail server could not be reached or refused a message.

    `reply` is the server's answer when it gave one ("550 5.1.1 No such mailbox"), else the error's class name;
    `refused` says the server answered no (rather than the connection failing)."""

    def __init__(self, reply: str, refused: bool = False) -> None:
        super().__init__(reply)
        self.reply = reply
        self.refused = refused


def _refusal(exc: smtplib.SMTPException) -> tuple[int, bytes | str] | None:
    """The server's code and text, for an error where the server answered no."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        return next(iter(exc.recipients.values()))
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code, exc.smtp_error
    return None


def mail_configured() -> bool:
    return bool(current_app.config["MAIL_SERVER"])


def make_message(to_address: str, to_name: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = formataddr((to_name, to_address))
    message["Subject"] = subject
    sender_domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2]
    message["Message-ID"] = make_msgid(domain=sender_domain or None)
    message.set_content(body)
    return message


class Mailer:
    """One SMTP connection for a batch of messages: `with Mailer() as mailer: mailer.send(message)`."""

    def __init__(self) -> None:
        config = current_app.config
        self.host = config["MAIL_SERVER"]
        self.port = config["MAIL_PORT"]
        self.security = config["MAIL_SECURITY"]
        self.username = config["MAIL_USERNAME"]
        self.password = config["MAIL_PASSWORD"]
        self.timeout = config["MAIL_TIMEOUT"]
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        try:
            if self.security == "ssl":
                self.smtp = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                self.smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    self.smtp.starttls(context=ssl.create_default_context())
            if self.username:
                self.smtp.login(self.username, self.password)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("cannot connect to the mail server: %s", type(exc).__name__)
            self._close()
            raise MailError(str(type(exc).__name__)) from exc
        return self

    def send(self, message: EmailMessage) -> None:
        assert self.smtp is not None, "use Mailer as a context manager"
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPException as exc:
            refusal = _refusal(exc)
            if refusal is None:
                log.warning("the mail server did not take a message: %s", type(exc).__name__)
                raise MailError(type(exc).__name__) from exc
            code, text = refusal
            # The code alone in the log: the reply's text often repeats the recipient's address.
            log.warning("the mail server refused a message: %s %s", type(exc).__name__, code)
            text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
            raise MailError(f"{code} {text}", refused=True) from exc
        except OSError as exc:
            log.warning("the mail server did not take a message: %s", type(exc).__name__)
            raise MailError(type(exc).__name__) from exc

    def _close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def __exit__(self, *exc_info) -> None:
        self._close()
