"""Shares and their uncertainty.

The Wilson score interval is used rather than the textbook "p ± 1.96·SE": it stays inside [0, 1], is not
zero-width when nobody (or everybody) gave an answer, and keeps close to its nominal 95% coverage for the
small groups a single cluster gives (Brown, Cai & DasGupta 2001, Statistical Science 16:101).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Two-sided 95%: the 0.975 quantile of the standard normal distribution.
Z_95 = 1.959963984540054


def wilson_interval(successes, n, z: float = Z_95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for successes out of n (arrays or scalars); NaN where n is 0."""
    x = np.asarray(successes, dtype=float)
    total = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / total
        z2 = z * z
        denominator = 1 + z2 / total
        centre = (p + z2 / (2 * total)) / denominator
        half = z * np.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denominator
        low = np.where(total > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(total > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def add_shares(table: pd.DataFrame, codes: list[str], n_column: str = "n") -> pd.DataFrame:
    """Add share_<code> = count / n for each answer code (NaN where n is 0)."""
    n = table[n_column].astype(float).where(table[n_column] > 0)
    shares = {f"share_{code}": table[code].astype(float) / n for code in codes}
    return table.assign(**shares)


def add_interval(table: pd.DataFrame, successes: pd.Series, name: str, n_column: str = "n") -> pd.DataFrame:
    """Add ci_<name>_low and ci_<name>_high, the Wilson 95% interval of successes / n."""
    low, high = wilson_interval(successes.to_numpy(dtype=float), table[n_column].to_numpy(dtype=float))
    return table.assign(**{f"ci_{name}_low": low, f"ci_{name}_high": high})
