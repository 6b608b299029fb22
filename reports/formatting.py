"""The one number formatter: Babel's percentages for a reader's locale, fast enough for a heat map's thousands of
cells, and the same locale's symbols for the few numbers Vega formats itself (axis ticks and legends)."""

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


@lru_cache(maxsize=64)
def percent_for(locale: str) -> Callable[[float], str]:
    """`percent_formatter` for a locale given by name ("en", "fr_BE"), as charts and downloads know it."""
    return percent_formatter(Locale.parse(locale))


def number_for(locale: str) -> Callable[[float], str]:
    """Counts and other plain numbers as the locale writes them (digit grouping and decimal sign)."""
    return lambda value: numbers.format_decimal(value, locale=locale)


def percent_interval(low: float, high: float, locale: str = "en") -> str:
    """A 95% interval as text, both ends formatted as the locale shows percentages."""
    percent = percent_for(locale)
    return f"{percent(low)}–{percent(high)}"


@lru_cache(maxsize=64)
def vega_number_locale(locale: str) -> dict[str, object]:
    """The locale's number symbols as Vega's `config.locale.number` (a d3-format locale), so that the axis ticks
    and legends Vega formats itself agree with what `percent_formatter` writes in tooltips, labels and tables.

    d3 places the percent sign only after the number; the symbol and its spacing are read off Babel's own
    output, so a locale's narrow no-break space before "%" comes through."""
    parsed = Locale.parse(locale)
    digits = numbers.format_decimal(25, locale=parsed)
    _, _, suffix = numbers.format_percent(0.25, locale=parsed).partition(digits)
    return {
        "decimal": numbers.get_decimal_symbol(parsed),
        "thousands": numbers.get_group_symbol(parsed),
        "grouping": [3],
        "currency": ["", ""],
        "percent": suffix or "%",
    }
