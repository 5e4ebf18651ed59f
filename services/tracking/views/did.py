"""The 95% interval of the staff-survey difference in differences (DiD).

The DiD of an index from the before year to an after year is the mean over the participants'
units ``u`` (those with a value in both years) of

    D_u = (unit after - unit before) - (its organisation's after - before).

Its interval is from the **OLS regression with an interaction term** (``statsmodels``):

    y ~ C(unit) + C(unit):treated + C(unit):post + treated:post

fitted to four values per unit (the unit's and its organisation's, before and after, with
``treated`` = 1 for the unit's own values and ``post`` = 1 after). Each unit's level, its gap
to its organisation and its organisation's change are free; the interaction ``treated:post``
is the change common to all the units beyond their organisation's: its estimate is the mean
of ``D_u``, and its standard error is the sample SD of ``D_u`` / sqrt(U), with U - 1 degrees of
freedom. That model is the first-difference regression ``D_u ~ 1``, which is what is fitted
(the same estimate, standard error and degrees of freedom, at one small fit per cell instead of
a design of 4U rows and 3U + 1 columns). The units are the sampling units: the interval says
how far the participants' units' extra change varies between units, not how precisely each
unit's index is measured (the respondents behind each value are not modelled). It needs at
least 2 units; with units whose D_u do not vary it is that value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import statsmodels.api as sm

from services.tracking.views.privacy import figure
from services.tracking.views.stats import CONFIDENCE


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float | None
    high: float | None
    units: int


def did_interval(differences: Sequence[float], confidence: float = CONFIDENCE) -> Interval | None:
    """The DiD (mean of the units' ``D_u``) and its OLS interval; None without units."""
    return _fitted(tuple(float(d) for d in differences), confidence) if differences else None


@lru_cache(maxsize=1024)
def _fitted(differences: tuple[float, ...], confidence: float) -> Interval:
    """Kept per set of differences: a view asks for the same cells on every request."""
    values = np.asarray(differences, dtype=float)
    estimate = float(values.mean())
    if len(values) < 2:
        return Interval(estimate, None, None, len(values))
    if float(values.std()) == 0.0:
        return Interval(estimate, estimate, estimate, len(values))
    fit = sm.OLS(values, np.ones((len(values), 1))).fit()
    low, high = fit.conf_int(alpha=1 - confidence)[0]
    return Interval(float(fit.params[0]), float(low), float(high), len(values))


def interval_cells(found: list[tuple[float, int]], minimum: int) -> dict[str, Any]:
    """The difference's 95% OLS interval (:mod:`.did`) as cells, and the units behind it.

    The cells carry the difference's own ``n`` (respondents) and suppression: the interval
    is a function of the units' values the view already shows.
    """
    interval = did_interval([d for d, _ in found])
    n = sum(r for _, r in found)
    few = "needs at least 2 units with values in both years"
    if interval is None:
        blank = {"value": None, "n": None, "suppressed": False, "reason": few}
        return {
            "difference_ci_low": blank,
            "difference_ci_high": dict(blank),
            "difference_units": 0,
        }
    return {
        "difference_ci_low": figure(_round(interval.low), n, minimum, few),
        "difference_ci_high": figure(_round(interval.high), n, minimum, few),
        "difference_units": interval.units,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
