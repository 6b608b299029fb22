"""Keep secrets and personal data out of every log line (security requirement 17): invitation tokens in paths,
bearer tokens, e-mail addresses, in messages, their arguments and the tracebacks of logged exceptions, whatever
logger writes them (the app's, Flask's, werkzeug's, gunicorn's, SQLAlchemy's). Bound SQL parameters never reach
an error in the first place (`hide_parameters` in config.py)."""

from __future__ import annotations

import logging
import re

from flask import Flask

_TOKEN_IN_PATH = re.compile(r"(/r/)[A-Za-z0-9_\-]+")
_BEARER = re.compile(r"(Bearer\s+)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(\.[\w\-]+)+")


def redact(text: str) -> str:
    text = _TOKEN_IN_PATH.sub(r"\1[token]", text)
    text = _BEARER.sub(r"\1[token]", text)
    return _EMAIL.sub("[e-mail]", text)


class RedactTokens(logging.Filter):
    """Rewrites log records so that the secret part of an invitation link never reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):  # gunicorn's access log passes its atoms as a dict
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


_redactor = RedactTokens()


def _redacted_record(factory):
    def make(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        _redactor.filter(record)
        if record.exc_info and record.exc_info[0] is not None:
            # The traceback is written from exc_text when it is set: write it now, redacted.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    make.redacts = True  # type: ignore[attr-defined]
    return make


def init_app(app: Flask) -> None:
    # Every record of the process is made by the record factory, whichever logger and handler it goes to.
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "redacts", False):
        logging.setLogRecordFactory(_redacted_record(factory))
