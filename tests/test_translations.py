"""Every text a person reads goes through the catalogues (issue 17): an offered language's catalogue translates
every message the code and the shipped questionnaire have now (extracted afresh, not read from the committed
template), with the same placeholders; the committed template is current; the language a reader gets follows
the link, the remembered choice, then the browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from survey.languages import EU_LANGUAGES, OFFERED, TRANSLATIONS, catalogue_path

REPO = Path(__file__).resolve().parents[1]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w+\}")
SKIPPED = {"node_modules", "tests", "bench", "docs", "migrations"}


def _source() -> set:
    """Every message id (a tuple of singular and plural for plurals) the code and questionnaires have now."""
    with (REPO / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    found = extract_from_dir(
        str(REPO),
        method_map,
        options_map,
        keywords=KEYWORDS,
        directory_filter=lambda path: not Path(path).name.startswith((".", "_")) and Path(path).name not in SKIPPED,
    )
    return {message for _, _, message, _, _ in found if message}


SOURCE = _source()


def _key(message_id) -> object:
    return tuple(message_id) if isinstance(message_id, (list, tuple)) else message_id


def _catalogue(code: str):
    with catalogue_path(code).open("rb") as file:
        return read_po(file, locale=code)


def test_the_committed_template_holds_every_message_there_is_now():
    """Catalogues are merged from it (`make messages`): a message missing there never reaches a translator."""
    with (TRANSLATIONS / "messages.pot").open("rb") as file:
        template = {_key(message.id) for message in read_po(file) if message.id}
    assert {_key(m) for m in SOURCE} - template == set(), "run `make messages`"


def test_the_source_has_the_questionnaire_and_the_interface():
    # The extraction itself can fail silently (a pattern that matches nothing): check it found both kinds.
    assert "Artificial intelligence" in SOURCE and "Log in" in SOURCE and len(SOURCE) > 500


def test_every_eu_language_is_offered_english_first():
    assert OFFERED[0] == "en" and sorted(OFFERED) == sorted(EU_LANGUAGES) and len(EU_LANGUAGES) == 24


def untranslated(code: str) -> list:
    """The source messages the language's catalogue lacks (a fuzzy entry, a guess by `pybabel update`, counts)."""
    catalogue = _catalogue(code)
    missing = []
    for message_id in SOURCE:
        entry = catalogue.get(message_id if isinstance(message_id, str) else message_id[0])
        strings = () if entry is None else entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(message_id)
    return missing


def placeholder_problems(code: str) -> list[tuple[str, str]]:
    problems = []
    for entry in _catalogue(code):
        if not entry.id or not entry.string or entry.fuzzy:  # a fuzzy guess is never used (nor offered)
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set().union(*(PLACEHOLDER.findall(text) for text in ids))
        for text in strings:
            if not text:
                continue
            found = set(PLACEHOLDER.findall(text))
            # A plural form may leave the number out ("une réponse"), never add or rename a placeholder.
            if found - wanted or (wanted - found) - {"%(num)d", "%d"}:
                problems.append((ids[0], text))
    return problems


@pytest.mark.parametrize("code", [code for code in OFFERED if code != "en"])
def test_an_offered_language_translates_every_message(code):
    missing = untranslated(code)
    assert not missing, f"{len(missing)} messages untranslated in {code}, e.g. {sorted(map(str, missing))[:5]}"


@pytest.mark.parametrize("code", [path.parent.parent.name for path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po"))])
def test_a_translation_has_the_placeholders_of_its_source(code):
    problems = placeholder_problems(code)
    assert not problems, problems[:5]


if __name__ == "__main__":  # for translators: PYTHONPATH=. .venv/bin/python tests/test_translations.py fr
    import sys

    for language in sys.argv[1:]:
        missing, problems = untranslated(language), placeholder_problems(language)
        print(f"{language}: {len(missing)} untranslated, {len(problems)} with other placeholders than the source")
        for message in sorted(map(str, missing))[:20]:
            print("  untranslated:", message[:100])
        for source, text in problems[:20]:
            print("  placeholders:", source[:60], "->", text[:60])
