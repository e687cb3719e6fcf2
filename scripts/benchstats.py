"""Statistics the benchmark scripts share."""

from __future__ import annotations

import math
import statistics


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile, interpolated between the closest ranks (NaN for no values)."""
    if not values:
        return math.nan
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]
