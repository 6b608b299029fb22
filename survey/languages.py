"""The languages people read the platform in: the EU's 24 official languages, each offered (`OFFERED`) once its
catalogue (survey/translations/<code>/LC_MESSAGES/messages.po) translates every message; English is the source.
tests/test_translations.py fails on any message an offered catalogue lacks, or whose placeholders differ.

Which one a request gets: the `lang` parameter of a link (the language switcher, an e-mail's link), then the
reader's remembered choice (a cookie the parameter sets), then the browser's preference (Accept-Language), then
English.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from flask import Response, current_app, has_request_context, request
from flask_babel import format_datetime, get_locale, get_timezone

#: The 24 official languages of the EU, by ISO 639-1 code.
EU_LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
)  # fmt: skip
SOURCE_LANGUAGE = "en"
#: The languages whose catalogues are complete, offered to every reader (config LANGUAGES can narrow them).
OFFERED: tuple[str, ...] = (SOURCE_LANGUAGE, *(code for code in EU_LANGUAGES if code != SOURCE_LANGUAGE))
TRANSLATIONS = Path(__file__).parent / "translations"
#: The parameter and the cookie that carry a reader's choice (a language code: not personal data).
PARAMETER = COOKIE = "lang"
COOKIE_SECONDS = 365 * 24 * 3600


def catalogue_path(code: str) -> Path:
    return TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"


def untranslated(texts: Iterable[str], languages: Iterable[str]) -> dict[str, list[str]]:
    """Per language (the source language aside), the texts its catalogue does not translate: a questionnaire
    cannot be opened while any of its texts lacks a translation in an offered language."""
    wanted = sorted(set(texts))
    missing = {}
    for code in languages:
        if code == SOURCE_LANGUAGE:
            continue
        catalogue = _catalogue(code)
        lacking = [text for text in wanted if not _translated(catalogue, text)]
        if lacking:
            missing[code] = lacking
    return missing


@lru_cache(maxsize=32)
def _catalogue(code: str) -> Catalog | None:
    path = catalogue_path(code)
    if not path.exists():
        return None
    with path.open("rb") as file:
        return read_po(file, locale=code)


def _translated(catalogue: Catalog | None, text: str) -> bool:
    entry = catalogue.get(text) if catalogue is not None else None
    if entry is None or entry.fuzzy:
        return False
    strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
    return bool(strings) and all(strings)


def offered() -> tuple[str, ...]:
    """The languages readers may choose: OFFERED, or those of them the LANGUAGES setting names."""
    chosen = current_app.config.get("LANGUAGES")
    return tuple(code for code in OFFERED if code in chosen) if chosen else OFFERED


def language_name(code: str) -> str:
    """The language's name in itself ("français", "polski"), as the switcher lists it."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def select_locale() -> str:
    """Flask-Babel's locale selector (see the module's text)."""
    languages = offered()
    if has_request_context():
        for chosen in (request.args.get(PARAMETER), request.cookies.get(COOKIE)):
            if chosen in languages:
                return chosen
        best = request.accept_languages.best_match(languages)
        if best:
            return best
    return SOURCE_LANGUAGE


def language_choice() -> dict | None:
    """What the switcher needs (a form that works without script): the languages offered, by name in itself,
    the current one, and this page's other parameters to keep. None when only one language is offered."""
    languages = offered()
    if len(languages) < 2:
        return None
    kept = [(name, value) for name, value in request.args.items(multi=True) if name != PARAMETER]
    return {
        "languages": [(code, language_name(code)) for code in languages],
        "current": str(get_locale()),
        "kept": kept,
        "action": request.path,
    }


def remember_choice(response: Response) -> Response:
    """After a request that chose a language by link: remember it for the reader's next pages."""
    chosen = request.args.get(PARAMETER)
    if chosen in offered() and request.cookies.get(COOKIE) != chosen:
        secure = bool(current_app.config.get("SESSION_COOKIE_SECURE", False))
        response.set_cookie(COOKIE, chosen, max_age=COOKIE_SECONDS, samesite="Lax", secure=secure)
    return response


def format_moment(value: datetime | None, format: str = "medium") -> str:
    """A date and time as the reader's language writes it, with the time zone it is in (the platform's
    BABEL_DEFAULT_TIMEZONE): the templates' `datetimeformat` filter."""
    if value is None:
        return ""
    # The zone's identifier (UTC, Europe/Brussels) reads the same in every language, unlike CLDR's names.
    zone = str(get_timezone())
    return f"{format_datetime(value, format)} ({'UTC' if zone in ('UTC', 'Etc/UTC') else zone})"
