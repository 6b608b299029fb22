"""The one percent formatter: Babel's, for a reader's locale, fast enough for a heat map's thousands of cells."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from babel import Locale, numbers

_ONE = Decimal(1)


@lru_cache(maxsize=64)
def percent_formatter(locale: Locale) -> Callable[[float], str]:
    """Babel's `format_percent` for one locale, memoised per whole percent where the locale shows whole percents.

    A heat map has over a thousand cells with three percentages each: Babel parsing its pattern for each one took
    a third of the page's time, and finding the locale for each one still a few percent; so the page asks for
    its formatter once, and only values within a hair of a half percent go through `Decimal`."""
    pattern = locale.percent_formats.get(None)
    if pattern is None or pattern.frac_prec != (0, 0):
        return lambda value: numbers.format_percent(value, locale=locale)
    texts: dict[int, str] = {}

    def percent(value: float) -> str:
        if not isinstance(value, int | float) or not 0 <= value < 1e6:  # shares and rates; NaN and "-0%" to Babel
            return numbers.format_percent(value, locale=locale)
        whole = _whole_percent(value)
        text = texts.get(whole)
        if text is None:
            text = numbers.format_percent(Decimal(whole) / 100, locale=locale)
            if whole <= 1000:  # keep the memo small whatever is asked
                texts[whole] = text
        return text

    return percent


def _whole_percent(value: float) -> int:
    """The whole percent Babel shows: the decimal value of the number's shortest representation, rounded half
    to even. Float arithmetic gives the same whole number unless the value is within a hair of a half
    percent, where only the decimal value is exact (and costs ten times as much)."""
    scaled = value * 100
    low = math.floor(scaled)
    if abs(scaled - low - 0.5) > 1e-6:
        return low + (scaled - low > 0.5)
    return int((Decimal(repr(float(value))) * 100).quantize(_ONE, rounding=ROUND_HALF_EVEN))
