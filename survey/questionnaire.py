"""The questionnaire document: a versioned JSON definition, parsed into small immutable objects.

A wave stores its own copy of the document, so editing the shipped file never changes a wave that
already exists. Item codes are what answers, tallies and wave-to-wave comparisons join on: once a
code has been used in a wave it must not change meaning.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

from babel import Locale

#: Sections whose items describe the organisation; they become the response's profile snapshot.
PROFILE_SECTION = "profile"
#: The adoption matrix, the platform's central question.
ADOPTION_SECTION = "adoption"
CHALLENGES_SECTION = "challenges"

ITEM_TYPES = {"choice", "select", "country", "integer", "text", "textarea", "multi"}


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class Item:
    code: str
    type: str
    label: str
    section: str
    help: str = ""
    required: bool = False
    choices: tuple[Choice, ...] = ()
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    #: For multi items: the choice that cannot be combined with any other ("none of these").
    exclusive: str | None = None

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.choices)

    @property
    def tallied(self) -> bool:
        """Answers with a closed set of codes are counted per group for the reports."""
        return self.type in {"choice", "multi"} and self.section != PROFILE_SECTION


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    items: tuple[Item, ...]
    question: str = ""
    help: str = ""
    #: Set for matrix sections (one shared answer scale for every item).
    scale: tuple[Choice, ...] = ()


#: Seconds a respondent takes for one question, by its type: reading it and picking an answer from a short
#: scale, finding an entry in a list, working out a figure, writing a line or a comment.
SECONDS_PER_ANSWER = {
    "choice": 6,
    "select": 10,
    "country": 10,
    "multi": 15,
    "integer": 20,
    "text": 20,
    "textarea": 45,
}


@dataclass(frozen=True)
class Questionnaire:
    code: str
    version: int
    title: str
    sections: tuple[Section, ...]
    intro: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def items(self) -> dict[str, Item]:
        return {item.code: item for section in self.sections for item in section.items}

    @property
    def minutes(self) -> int:
        """About how long answering takes, in whole minutes: `SECONDS_PER_ANSWER` per question by its type (rules
        of thumb for self-administered web questionnaires), until respondents have measured it
        (`survey.operations.answering_time`)."""
        seconds = sum(SECONDS_PER_ANSWER.get(item.type, 10) for item in self.items.values())
        return max(1, -(-seconds // 60))

    def section(self, code: str) -> Section:
        for section in self.sections:
            if section.code == code:
                return section
        raise KeyError(code)

    @property
    def technologies(self) -> tuple[Item, ...]:
        return self.section(ADOPTION_SECTION).items

    @property
    def adoption_scale(self) -> tuple[Choice, ...]:
        return self.section(ADOPTION_SECTION).scale

    @property
    def challenges(self) -> tuple[Item, ...]:
        return self.section(CHALLENGES_SECTION).items


def _choices(raw: list[dict[str, str]] | None) -> tuple[Choice, ...]:
    return tuple(Choice(code=str(c["code"]), label=str(c["label"])) for c in raw or ())


def parse(document: dict[str, Any]) -> Questionnaire:
    """Parse and check a questionnaire document; raise ValueError on anything malformed."""
    seen: set[str] = set()
    sections = []
    for raw_section in document["sections"]:
        scale = _choices(raw_section.get("scale"))
        items = []
        for raw_item in raw_section["items"]:
            code = raw_item["code"]
            if code in seen:
                raise ValueError(f"item code {code!r} appears twice")
            seen.add(code)
            item_type = raw_item.get("type", "choice")
            if item_type not in ITEM_TYPES:
                raise ValueError(f"item {code!r} has unknown type {item_type!r}")
            choices = _choices(raw_item.get("choices")) or scale
            if item_type in {"choice", "select", "multi"} and not choices:
                raise ValueError(f"item {code!r} needs choices or a section scale")
            items.append(
                Item(
                    code=code,
                    type=item_type,
                    label=raw_item["label"],
                    section=raw_section["code"],
                    help=raw_item.get("help", ""),
                    required=bool(raw_item.get("required", False)),
                    choices=choices,
                    min=raw_item.get("min"),
                    max=raw_item.get("max"),
                    max_length=raw_item.get("max_length"),
                    pattern=raw_item.get("pattern"),
                    exclusive=raw_item.get("exclusive"),
                )
            )
        sections.append(
            Section(
                code=raw_section["code"],
                title=raw_section["title"],
                items=tuple(items),
                question=raw_section.get("question", ""),
                help=raw_section.get("help", ""),
                scale=scale,
            )
        )
    questionnaire = Questionnaire(
        code=document["code"],
        version=int(document["version"]),
        title=document["title"],
        sections=tuple(sections),
        intro=document.get("intro", ""),
        raw=document,
    )
    for required in (PROFILE_SECTION, ADOPTION_SECTION, CHALLENGES_SECTION):
        questionnaire.section(required)
    return questionnaire


def default_document() -> dict[str, Any]:
    """The questionnaire that ships with the platform, as a JSON-ready dict."""
    text = resources.files("survey.questionnaires").joinpath("default.json").read_text("utf-8")
    return json.loads(text)


#: Two-letter codes in CLDR that are groupings or placeholders, not countries.
#: CLDR territory codes that are no country: groupings (EU, EZ, UN, QO), the unknown region, Babel's
#: pseudo-locales ("Pseudo-Accents", "Pseudo-Bidi") and the exceptionally reserved codes of parts of countries.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
#: The EU's 27 countries, and with the other EEA countries listed first: the clusters this platform serves are there.
EU = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
)
EU_EEA = EU | {"IS", "LI", "NO"}


def country_choices(locale: str = "en") -> list[tuple[str, str]]:
    """Countries (ISO 3166-1 alpha-2, and Kosovo's XK) with their names in `locale`: the EU and EEA first, then
    the rest, each sorted by name as a reader would look for it (accents aside: "Émirats" among the E's)."""
    return list(_country_choices(str(locale)))


@lru_cache(maxsize=32)
def _country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    territories = Locale.parse(locale).territories
    pairs = [
        (code, name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ]
    return tuple(sorted(pairs, key=lambda pair: (pair[0] not in EU_EEA, _sort_key(pair[1]))))


def _sort_key(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()
