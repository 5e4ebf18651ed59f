"""Mobility's uncertainty and competing risks: Greenwood variances, counts, log-rank tables and
Aalen-Johansen cumulative incidence of one group.

* **Greenwood variance** of the Kaplan-Meier estimate at a horizon ``t``:
  ``S(t)^2 * sum over event days t_i <= t of d_i / (n_i (n_i - d_i))`` (``n_i`` at risk, ``d_i``
  events); undefined (None) once every one at risk has had the event. The participants-minus-
  comparison difference at 6, 12 and 24 months gets the interval
  ``difference +- z_0.975 * sqrt(var_participants + var_comparison)`` (independent groups).
* **Counts of people who moved**: by the view date, and within N months once everyone's N
  months have passed; a count is shown only when at least the minimum moved.
* **Log-rank tables**: the follow-up coarsened to whole months since each person's origin
  (``days // 30.4375``), per month the events and the censored. The log-rank test of the two
  groups (``scipy.stats.logrank``, two-sided) runs on these, so it sees no exact day, as the
  released curve does not.
* **Aalen-Johansen cumulative incidence** with leaving the state as the competing risk: of a
  first move within the state (any move but leaving), and of a first rotation (other moves do
  not stop that follow-up). ``CIF(t) = sum over t_j <= t of S(t_j-) * d_j / n_j``, with ``S``
  the Kaplan-Meier survival from either cause and ``d_j`` the events of the cause. Beside the
  cause-specific Kaplan-Meier (which censors at leaving, and answers "how many would have moved
  had no one left"), it answers "what share of the group did move by then", with the share
  that left first shown as ``left_state``. The two add up to at most 1.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from services.tracking.views.privacy import cell, figure
from services.tracking.views.survival import (
    DAYS_PER_MONTH,
    NO_FOLLOW_UP,
    Counted,
    Observation,
    add_months,
    horizon_days,
)

CENSORED, CAUSE, LEFT = 0, 1, 2
KINDS = ("first_move", "first_rotation", "left_state")


class Timed(NamedTuple):
    """One person's follow-up for a competing-risks outcome: days and what ended it."""

    days: int
    cause: int


Followed = Mapping[tuple[dt.date, Observation], int]
"""A group's follow-ups: how many people had each observation from each origin."""


def greenwood(counted: Counted, days: int) -> float | None:
    """The Greenwood variance of the Kaplan-Meier survival at ``days`` (None if undefined)."""
    at: Counter[int] = Counter()
    events: Counter[int] = Counter()
    for o, count in counted.items():
        at[o.days] += count
        if o.event:
            events[o.days] += count
    total, survival, acc, gone = sum(at.values()), 1.0, 0.0, 0
    for t in sorted(at):
        if t > days:
            break
        n, d = total - gone, events.get(t, 0)
        if d:
            if n == d:
                return None
            survival *= 1 - d / n
            acc += d / (n * (n - d))
        gone += at[t]
    return survival * survival * acc


def variances(followed: Followed, horizons: Sequence[int]) -> dict[str, float | None]:
    """Greenwood variance at each horizon (days from the earliest origin, as the estimate)."""
    origin = min((t0 for (t0, _), c in followed.items() if c), default=None)
    if origin is None:
        return {str(m): None for m in horizons}
    counted: Counter[Observation] = Counter()
    for (_, o), count in followed.items():
        counted[o] += count
    return {str(m): greenwood(counted, horizon_days(origin, m)) for m in horizons}


def month_table(followed: Followed) -> list[list[int]]:
    """[month, events, censored] per whole month since the origin (the log-rank's input)."""
    table: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for (_, o), count in followed.items():
        if count:
            table[int(o.days // DAYS_PER_MONTH)][0 if o.event else 1] += count
    return [[month, e, c] for month, (e, c) in sorted(table.items())]


def moved_counts(
    followed: Followed,
    n: int,
    view_day: dt.date,
    horizons: Sequence[int],
    minimum: int,
) -> dict[str, Any]:
    """How many had the event by the view date, and within each horizon once it has passed."""
    origins = {t0 for (t0, _), c in followed.items() if c}

    def shown(count: int | None, reason: str) -> dict[str, Any]:
        if count is None:
            return {"value": None, "n": None, "suppressed": False, "reason": reason}
        if n < minimum:
            return cell(None, n, minimum)
        if count < minimum:
            return {
                "value": None,
                "n": None,
                "suppressed": True,
                "reason": f"fewer than {minimum} moved ({minimum} is the minimum)",
            }
        return cell(count, n, minimum)

    within = {}
    for months in horizons:
        count = None
        if origins and all(add_months(t0, months) <= view_day for t0 in origins):
            ends = {t0: horizon_days(t0, months) for t0 in origins}
            count = sum(c for (t0, o), c in followed.items() if o.event and o.days <= ends[t0])
        within[str(months)] = shown(count, f"follow-up shorter than {months} months")
    total = sum(c for (_, o), c in followed.items() if o.event) if origins else None
    return {"by_view_date": shown(total, NO_FOLLOW_UP), "within": within}


def competing_observation(
    moves: Sequence[Any], t0: dt.date, day: dt.date, kinds: set[str] | None
) -> Timed:
    """The first move of ``kinds`` (any but leaving, if None) or leaving, after ``t0`` by
    ``day``; else censored at ``day``."""
    for move in moves:
        if not t0 < move.start <= day:
            continue
        if move.kind == "left_state":
            return Timed((move.start - t0).days, LEFT)
        if kinds is None or move.kind in kinds:
            return Timed((move.start - t0).days, CAUSE)
    return Timed((day - t0).days, CENSORED)


def aalen_johansen(timed: Mapping[Timed, int], days: int) -> tuple[float, float, int] | None:
    """(CIF of the cause, CIF of leaving, at risk) at ``days``, from the follow-ups counted by
    value; None beyond the follow-up."""
    timed = {t: c for t, c in timed.items() if c}
    if not timed or days > max(t.days for t in timed):
        return None
    by_day: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for t, count in timed.items():
        by_day[t.days][t.cause] += count
    at_risk, survival, cause, left = sum(timed.values()), 1.0, 0.0, 0.0
    for day in sorted(by_day):
        if day > days:
            break
        censored, d_cause, d_left = by_day[day]
        if d_cause or d_left:
            cause += survival * d_cause / at_risk
            left += survival * d_left / at_risk
            survival *= 1 - (d_cause + d_left) / at_risk
        at_risk -= censored + d_cause + d_left
    return cause, left, sum(c for t, c in timed.items() if t.days >= days)


def competing_figures(
    movers: Sequence[tuple[str, dt.date]],
    unmoved: Mapping[dt.date, int],
    moves: Mapping[str, list[Any]],
    view_day: dt.date,
    n: int,
    horizons: Sequence[int],
    minimum: int,
) -> dict[str, Any]:
    """Aalen-Johansen CIF at each horizon of a first move within the state and a first
    rotation, each with leaving the state's; suppressed below the minimum at risk.

    ``movers`` are the people followed who have moves (with their origins), ``unmoved`` counts
    the others by origin: each of them is censored at the view date."""
    origins = [t0 for _, t0 in movers] + [t0 for t0, c in unmoved.items() if c]
    origin = min(origins, default=None)
    out: dict[str, Any] = {}
    for name, kinds in (("first_move", None), ("first_rotation", {"job_rotation"})):
        timed: Counter[Timed] = Counter(
            {Timed((view_day - t0).days, CENSORED): c for t0, c in unmoved.items() if c}
        )
        for p, t0 in movers:
            timed[competing_observation(moves[p], t0, view_day, kinds)] += 1
        cause: dict[str, Any] = {}
        left: dict[str, Any] = {}
        for months in horizons:
            key = str(months)
            found = None if origin is None else aalen_johansen(timed, horizon_days(origin, months))
            if found is None:
                reason = NO_FOLLOW_UP if origin is None else _shorter(months)
                blank = figure(None, n, minimum, reason)
                cause[key], left[key] = blank, dict(blank)
                continue
            c, l_, at_risk = found
            if n >= minimum and at_risk < minimum:
                few = {
                    "value": None,
                    "n": None,
                    "suppressed": True,
                    "reason": f"estimated from fewer than {minimum} people still followed"
                    f" by then ({minimum} is the minimum)",
                }
                cause[key], left[key] = few, dict(few)
                continue
            cause[key] = cell(round(c, 4), n, minimum)
            left[key] = cell(round(l_, 4), n, minimum)
        out[name] = {"cumulative_incidence": cause, "left_state": left}
    return out


def _shorter(months: int) -> str:
    return f"follow-up shorter than {months} months"


def normal_interval(
    difference: float, variance: float, z: float = 1.959963984540054
) -> tuple[float, float]:
    half = z * math.sqrt(variance)
    return difference - half, difference + half
