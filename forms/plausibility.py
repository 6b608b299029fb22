"""Checks between answers: a region that belongs to the chosen country (refused), and figures that are unusual
together (a warning the respondent confirms, not a refusal: a figure can be unusual and right)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib.resources import files
from typing import Any

from flask_babel import format_decimal, gettext

#: Persons employed per size class (the questionnaire's profile), inclusive; None: no upper bound.
SIZE_BOUNDS: dict[str, tuple[int, int | None]] = {
    "micro": (0, 9),
    "small": (10, 49),
    "medium": (50, 249),
    "large": (250, None),
}
#: Employment that grew or shrank by more than this factor in twelve months is worth a second look.
CHANGE_FACTOR = 3


@lru_cache(maxsize=1)
def nuts2_regions() -> dict[str, dict[str, str]]:
    """Country -> NUTS 2 code -> name (survey/data/README.md says where they come from)."""
    return json.loads(files("survey").joinpath("data/nuts2.json").read_text(encoding="utf-8"))


def region_problem(country: str | None, region: str | None) -> str | None:
    """Why this NUTS 2 code cannot be given with this country, or None. Countries without NUTS regions take no
    region at all."""
    if not region:
        return None
    regions = nuts2_regions().get(country or "", {})
    if region in regions:
        return None
    if not regions:
        return gettext("There are no NUTS 2 regions for the country chosen: leave the region empty.")
    examples = ", ".join(list(regions)[:3])
    return gettext(
        "%(region)s is not a NUTS 2 region of the country chosen; its regions are, for example, %(examples)s.",
        region=region,
        examples=examples,
    )


def unusual(values: Mapping[str, Any], size_labels: Mapping[str, str]) -> list[tuple[str, str]]:
    """(item code, message) for each figure that is unusual given the others; `size_labels` are the size
    classes' labels as the questionnaire has them (translated here)."""
    found: list[tuple[str, str]] = []
    now, before, size = values.get("employees_now"), values.get("employees_12m_ago"), values.get("size_class")
    if isinstance(now, int) and size in SIZE_BOUNDS:
        low, high = SIZE_BOUNDS[size]
        if now < low or (high is not None and now > high):
            found.append(
                (
                    "employees_now",
                    gettext(
                        "You chose “%(size)s” persons employed, but %(now)s persons employed now.",
                        size=gettext(size_labels.get(size, size)),
                        now=format_decimal(now),
                    ),
                )
            )
    changed = isinstance(now, int) and isinstance(before, int) and max(now, before) >= 10
    if changed and min(now, before) * CHANGE_FACTOR < max(now, before):  # type: ignore[type-var]
        found.append(
            (
                "employees_12m_ago",
                gettext(
                    "Persons employed went from %(before)s to %(now)s in twelve months.",
                    before=format_decimal(before),
                    now=format_decimal(now),
                ),
            )
        )
    return found
