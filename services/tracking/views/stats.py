"""The statistics the tracking views share: mean and SD of a sample, and a paired change.

They take plain sequences and return plain Python floats (never numpy scalars), unrounded;
:func:`rounded` gives the four decimals the views show. Suppression is not decided here: the
views wrap these figures in privacy cells. Intervals are t-intervals, mean +- t * SD / sqrt(n),
with the quantile from ``scipy.stats.t.ppf``: the interval ``scipy.stats.ttest_1samp(d, 0)
.confidence_interval()`` gives, without its per-call overhead (milliseconds each, dozens of
calls per view); the quantile is cached per confidence and degrees of freedom.

The paired change of ``before`` and ``after`` (the same people measured twice) is summarised
by the mean of the differences ``after - before`` with its t-interval, and two effect sizes:

* **Cohen's d_z** = mean difference / SD of the differences. It is the effect size of the
  paired design itself: the same standardiser the paired t-test uses, so it agrees with the
  interval and the test (d_z = t / sqrt(n)). It is the headline figure.
* **Hedges' g_av** = mean difference / the average of the two waves' SDs, times the small-sample
  correction ``1 - 3 / (4 (n - 1) - 1)`` (Lakens 2013). It standardises by how much people
  differ from each other rather than by how consistently they changed, so it can be compared
  with between-group studies; with about 20 people the correction matters.

Either is ``None``, with the reason, when its standardiser is 0 or undefined.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from scipy import stats

DECIMALS = 4
CONFIDENCE = 0.95
TOO_FEW_PAIRS = "needs at least 2 pairs"


def rounded(value: float | None, decimals: int = DECIMALS) -> float | None:
    """``value`` as a plain float with ``decimals`` places, or ``None``."""
    return None if value is None else round(float(value), decimals)


@lru_cache(maxsize=256)
def t_quantile(confidence: float, df: int) -> float:
    """The two-sided t quantile for ``confidence`` with ``df`` degrees of freedom."""
    return float(stats.t.ppf(0.5 + confidence / 2, df))


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def sample_sd(values: Sequence[float], centre: float | None = None) -> float:
    """The sample standard deviation (n - 1) of at least two values."""
    m = mean(values) if centre is None else centre
    return math.sqrt(math.fsum((x - m) ** 2 for x in values) / (len(values) - 1))


def t_interval(
    centre: float, sd: float, n: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """The t-interval of a mean of ``n`` (>= 2) values with sample SD ``sd``."""
    half = t_quantile(confidence, n - 1) * sd / math.sqrt(n)
    return centre - half, centre + half


@dataclass(frozen=True)
class Description:
    """Mean, sample SD (ddof=1) and the mean's t-interval of ``n`` values.

    SD and interval are ``None`` below two values; values that do not vary have an interval
    of that single value.
    """

    n: int
    mean: float | None
    sd: float | None
    ci_low: float | None = None
    ci_high: float | None = None


def describe(values: Sequence[float], confidence: float = CONFIDENCE) -> Description:
    n = len(values)
    if n == 0:
        return Description(0, None, None)
    centre = mean(values)
    if n < 2:
        return Description(n, centre, None)
    sd = sample_sd(values, centre)
    return Description(n, centre, sd, *t_interval(centre, sd, n, confidence))


@dataclass(frozen=True)
class PairedChange:
    """The change from ``before`` to ``after`` over ``n`` pairs (see the module docstring).

    ``ci_low``/``ci_high`` bound the mean difference at ``confidence``; with differences that
    do not vary (SD 0) the interval is that single value. ``d_z_reason`` and ``g_av_reason``
    say why an effect size is ``None``.
    """

    n: int
    mean_difference: float | None
    sd_difference: float | None
    ci_low: float | None
    ci_high: float | None
    d_z: float | None
    d_z_reason: str | None
    g_av: float | None
    g_av_reason: str | None
    confidence: float = CONFIDENCE


def paired_change(
    before: Sequence[float], after: Sequence[float], confidence: float = CONFIDENCE
) -> PairedChange:
    """Mean of ``after - before``, its SD and t-interval, Cohen's d_z and Hedges' g_av."""
    if len(before) != len(after):
        raise ValueError("paired samples must be the same length")
    n = len(before)
    if n == 0:
        return PairedChange(0, None, None, None, None, None, TOO_FEW_PAIRS, None, TOO_FEW_PAIRS)
    differences = [float(b) - float(a) for a, b in zip(before, after, strict=True)]
    centre = mean(differences)
    if n < 2:
        return PairedChange(
            n, centre, None, None, None, None, TOO_FEW_PAIRS, None, TOO_FEW_PAIRS, confidence
        )
    sd = sample_sd(differences, centre)
    low, high = t_interval(centre, sd, n, confidence)
    if sd == 0.0:
        d_z, d_z_reason = None, "the differences do not vary (SD 0): d_z is undefined"
    else:
        d_z, d_z_reason = centre / sd, None
    average_sd = (sample_sd(before) + sample_sd(after)) / 2
    g_av: float | None = None
    if n < 3:
        g_av_reason: str | None = "needs at least 3 pairs"
    elif average_sd == 0.0:
        g_av_reason = "neither wave varies (SD 0): g_av is undefined"
    else:
        g_av, g_av_reason = centre / average_sd * hedges_correction(n - 1), None
    return PairedChange(n, centre, sd, low, high, d_z, d_z_reason, g_av, g_av_reason, confidence)


def hedges_correction(df: int) -> float:
    """Hedges' small-sample correction J = 1 - 3 / (4 df - 1) (df = n - 1 when paired)."""
    return 1.0 - 3.0 / (4.0 * df - 1.0)
