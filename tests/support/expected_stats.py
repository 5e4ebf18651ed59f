"""The headline statistics of the TEMPO pilot, recomputed without the tracking code.

Written by hand from the scenario's data (through the other ``expected_*`` modules) with the
textbook formulas: the one-sample t-interval and t-test, Holm's step-down adjustment, Greenwood's
variance, the log-rank statistic with the hypergeometric variance, the Aalen-Johansen estimator,
Wilson and Newcombe intervals, and the DiD's first-difference t-interval. Only distribution
quantiles come from SciPy (``stats.t``) and ``statistics.NormalDist``.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from statistics import NormalDist
from typing import Any

from scipy import stats

from services.scenario.enrolment import MOVES
from tests.support import expected_growth, expected_mobility, expected_surveys

Z = NormalDist().inv_cdf(0.975)


# Growth --------------------------------------------------------------------------------------


def person_improvements(group: str) -> dict[str, float]:
    """Each participant's mean improvement baseline -> post over the dimensions they have."""
    values = expected_growth.person_values()
    out: dict[str, list[float]] = defaultdict(list)
    for person in expected_growth.taking_part():
        for dimension in expected_growth.DIMENSIONS:
            before = values.get((person, "baseline", group, dimension))
            after = values.get((person, "post", group, dimension))
            if before is None or after is None:
                continue
            change = after - before
            out[person].append(-change if dimension in expected_growth.REVERSE_SCORED else change)
    return {person: sum(v) / len(v) for person, v in out.items()}


def headline(group: str) -> dict[str, float]:
    gains = list(person_improvements(group).values())
    n = len(gains)
    centre = sum(gains) / n
    sd = math.sqrt(sum((g - centre) ** 2 for g in gains) / (n - 1))
    se = sd / math.sqrt(n)
    q = float(stats.t.ppf(0.975, n - 1))
    t = centre / se
    return {
        "n": n,
        "mean_improvement": centre,
        "sd": sd,
        "ci_low": centre - q * se,
        "ci_high": centre + q * se,
        "t": t,
        "p_value": float(2 * stats.t.sf(abs(t), n - 1)),
    }


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down: the i-th smallest times (m - i), made monotone, capped at 1."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


# Mobility ------------------------------------------------------------------------------------


def greenwood(obs: list[tuple[int, bool]], day: int) -> tuple[float, float]:
    """(S(day), Greenwood variance) by the product-limit over ``obs`` ((days, event))."""
    s, acc = 1.0, 0.0
    for t in sorted({t for t, moved in obs if moved and t <= day}):
        r = sum(1 for u, _ in obs if u >= t)
        d = sum(1 for u, moved in obs if moved and u == t)
        s *= 1 - d / r
        acc += d / (r * (r - d))
    return s, s * s * acc


def difference_interval(
    ours: list[tuple[int, bool]], theirs: list[tuple[int, bool]], day: int
) -> tuple[float, float, float]:
    """Incidence difference (ours - theirs) at ``day`` and its normal 95% interval."""
    s1, v1 = greenwood(ours, day)
    s2, v2 = greenwood(theirs, day)
    difference = (1 - s1) - (1 - s2)
    half = Z * math.sqrt(v1 + v2)
    return difference, difference - half, difference + half


def logrank(ours: list[tuple[int, bool]], theirs: list[tuple[int, bool]]) -> tuple[float, float]:
    """(Z, two-sided p) of the log-rank test on whole months (days // 30.4375)."""
    a = [(int(t // 30.4375), e) for t, e in ours]
    b = [(int(t // 30.4375), e) for t, e in theirs]
    o_minus_e = variance = 0.0
    for t in sorted({t for t, e in a + b if e}):
        n1 = sum(1 for u, _ in a if u >= t)
        n2 = sum(1 for u, _ in b if u >= t)
        d1 = sum(1 for u, e in a if e and u == t)
        d = d1 + sum(1 for u, e in b if e and u == t)
        n = n1 + n2
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            variance += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    z = o_minus_e / math.sqrt(variance)
    return z, 2 * (1 - NormalDist().cdf(abs(z)))


def competing(
    keys: list[str], day: dt.date, cause: tuple[str, ...] | None
) -> list[tuple[int, int]]:
    """(days, 0 censored / 1 the cause / 2 left the state) per person, by ``day``."""
    origin = expected_mobility.ORIGIN
    out = []
    for key in keys:
        mine = sorted(
            (m for m in MOVES if m.key == key and origin < m.start_date <= day),
            key=lambda m: m.start_date,
        )
        found = (day - origin).days, 0
        for move in mine:
            if move.kind == "left_state":
                found = (move.start_date - origin).days, 2
                break
            if cause is None or move.kind in cause:
                found = (move.start_date - origin).days, 1
                break
        out.append(found)
    return out


def aalen_johansen(timed: list[tuple[int, int]], day: int) -> tuple[float, float]:
    """(CIF of the cause, CIF of leaving) at ``day``."""
    s, cif1, cif2 = 1.0, 0.0, 0.0
    for t in sorted({t for t, c in timed if c and t <= day}):
        r = sum(1 for u, _ in timed if u >= t)
        d1 = sum(1 for u, c in timed if u == t and c == 1)
        d2 = sum(1 for u, c in timed if u == t and c == 2)
        cif1 += s * d1 / r
        cif2 += s * d2 / r
        s *= 1 - (d1 + d2) / r
    return cif1, cif2


# Attendance ----------------------------------------------------------------------------------


def wilson(x: int, n: int) -> tuple[float, float]:
    p = x / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


def newcombe(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) of p1 - p2."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1)
    l2, u2 = wilson(x2, n2)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


# Staff survey --------------------------------------------------------------------------------


def did(index: str, after: int) -> dict[str, Any]:
    """The DiD over the participants' units and its t-interval with U - 1 degrees of freedom."""
    before = expected_surveys.before_year()
    organisation = expected_surveys.series("organisation")
    org = organisation[after][1][index] - organisation[before][1][index]
    found = []
    for department, unit in expected_surveys.participant_units():
        mine = expected_surveys.series("unit", department, unit)
        if before in mine and after in mine:
            found.append(mine[after][1][index] - mine[before][1][index] - org)
    u = len(found)
    centre = statistics.fmean(found)
    half = float(stats.t.ppf(0.975, u - 1)) * statistics.stdev(found) / math.sqrt(u)
    return {"units": u, "difference": centre, "low": centre - half, "high": centre + half,
            "differences": found}  # fmt: skip
