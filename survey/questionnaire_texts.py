"""The texts of a questionnaire document for the translation catalogues: a Babel extractor (babel.cfg), so that
`pybabel extract` finds the labels, help texts, scales and choices that the pages translate with gettext
(`forms.questionnaire.displayed_questionnaire`) beside the interface's own messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

#: The keys of a questionnaire document whose values people read.
TEXT_KEYS = ("title", "intro", "question", "help", "label")


def texts(document: Any) -> Iterator[str]:
    """Every text of the document, in document order (repeats included)."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key in TEXT_KEYS and isinstance(value, str) and value:
                yield value
            elif isinstance(value, (dict, list)):
                yield from texts(value)
    elif isinstance(document, list):
        for value in document:
            yield from texts(value)


def extract(fileobj: IO[bytes], keywords, comment_tags, options) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel's extractor interface: (line, function, message, comments) per text."""
    raw = fileobj.read().decode("utf-8")
    document = json.loads(raw)
    code = document.get("code", "questionnaire")
    for text in texts(document):
        position = raw.find(json.dumps(text, ensure_ascii=False)[1:-1])
        line = raw.count("\n", 0, position) + 1 if position >= 0 else 0
        yield line, "gettext", text, [f"questionnaire {code}"]
