"""Time to an event with censoring: the Kaplan-Meier estimate the mobility view is built on.

SciPy's ``stats.ecdf`` over ``stats.CensoredData`` does the estimating, and its
``confidence_interval(0.95)`` gives the pointwise 95% interval (Greenwood's formula, SciPy's
default linear form, clipped to [0, 1]; undefined where every one at risk has the event, shown
as null). This module only shapes it: the curve as points with the people at risk and the
events counted from the data, the cumulative incidence at a horizon, and the median; and
:func:`time_to_event` turns a group's observations into those figures as suppressible cells.

Each step of the curve is the share of those still at risk who had the event then, so a step
taken among fewer people than the minimum describes those few, however large the group, and a
step of one event dates that person's event: two curves over populations overlapping in one
person show that person's day as the one step they share. The curve is therefore released
coarsened (:meth:`KaplanMeier.monthly`): at the origin and at whole calendar months after it,
a point only where the step since the previous point holds at least the minimum events and at
least the minimum are still at risk; a month with fewer events is merged into the next step.
The estimates at the 6, 12 and 24-month horizons are fixed points, shown where at least the
minimum were at risk; the median is the first whole month by which half had the event.

Times are whole days since each person's origin. A curve is only known up to the longest time
observed: asking for a later horizon gives None, never the last value carried forward.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import warnings
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy
from scipy import stats

from services.tracking.views.privacy import figure

NO_FOLLOW_UP = "no follow-up: the cohort had not ended by the view date"
NOT_REACHED = "not reached: fewer than half had moved by the end of follow-up"
DAYS_PER_MONTH = 30.4375
"""365.25 / 12: the months shown beside days on the curve (a display unit only)."""


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later, or that month's last day if shorter.

    Past the calendar's end (a cohort recorded as ending in 9999 before dates had to be
    plausible) it is the last day there is: a horizon never reached, so never a 500.
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if year > dt.MAXYEAR:
        return dt.date.max
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def horizon_days(origin: dt.date, months: int) -> int:
    """Days from ``origin`` to the same day ``months`` calendar months later."""
    return (add_months(origin, months) - origin).days


def in_months(days: int) -> float:
    return round(days / DAYS_PER_MONTH, 2)


@dataclass(frozen=True)
class Observation:
    """One person's time: the day of the event, or the last day they were seen without it."""

    days: int
    event: bool


def _number(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else round(number, 4)


Counted = Mapping[Observation, int]
"""Observations with the number of people who had each: a large group's follow-ups are mostly
the same few (everyone unmoved is censored at the view date, by origin), so its statistics run
over those few values, not over every person."""


@dataclass(frozen=True)
class KaplanMeier:
    """The product-limit estimate over a group's observations (which may be empty), kept as
    each distinct observation, by time, with its number of people."""

    observations: tuple[Observation, ...]
    counts: tuple[int, ...]

    @classmethod
    def of(cls, observations: Iterable[Observation]) -> KaplanMeier:
        return cls.counted(Counter(observations))

    @classmethod
    def counted(cls, counted: Counted) -> KaplanMeier:
        if any(o.days < 0 for o in counted):
            raise ValueError("an observation cannot end before its origin")
        kept = sorted(((o, c) for o, c in counted.items() if c > 0), key=_by_time)
        return cls(tuple(o for o, _ in kept), tuple(c for _, c in kept))

    @cached_property
    def n(self) -> int:
        return sum(self.counts)

    @property
    def follow_up(self) -> int | None:
        """The longest time observed, up to which the curve is known."""
        return self.observations[-1].days if self.observations else None

    @cached_property
    def _seen(self) -> tuple[list[int], list[int]]:
        """Each distinct time, and how many were observed before it (those at risk at t are
        all but those observed before t)."""
        return _cumulative((o.days, c) for o, c in zip(self.observations, self.counts, strict=True))

    @cached_property
    def _moved(self) -> tuple[list[int], list[int]]:
        """Each distinct time of an event, and how many events came before it."""
        return _cumulative(
            (o.days, c) for o, c in zip(self.observations, self.counts, strict=True) if o.event
        )

    def _events_before(self, days: int) -> int:
        """Events on days before ``days``."""
        times, before = self._moved
        return before[bisect_left(times, days)]

    def _events_upto(self, days: int) -> int:
        """Events on ``days`` or before."""
        times, before = self._moved
        return before[bisect_right(times, days)]

    def _event_times(self) -> list[int]:
        return self._moved[0]

    @cached_property
    def _fit(self) -> Any:
        def days(event: bool) -> Any:
            pairs = [
                (o.days, c)
                for o, c in zip(self.observations, self.counts, strict=True)
                if o.event is event
            ]
            return numpy.repeat([d for d, _ in pairs], [c for _, c in pairs])

        return stats.ecdf(stats.CensoredData(uncensored=days(True), right=days(False)))

    def points(self) -> list[dict[str, Any]]:
        """The step curve: the origin, each day with an event, and the end of follow-up.

        ``survival`` is the share still without the event after that day, ``at_risk`` those
        observed up to that day at least, ``events`` those with the event on it.
        """
        if not self.observations:
            return []
        return self._points_at(sorted({0, *self._event_times(), self.follow_up or 0}))

    def monthly(self, origin: dt.date, minimum: int) -> list[dict[str, Any]]:
        """The curve as released: the origin, then whole calendar months after ``origin``
        that close a step of at least ``minimum`` events among at least ``minimum`` at risk.

        A month with fewer events is merged into the next step; ``events`` is the events
        since the previous point. No day of a single event can be read off a point.
        """
        if not self.observations:
            return []
        end = self.follow_up or 0
        grid, steps, previous, month = [0], [0], 0, 1
        while (days := horizon_days(origin, month)) <= end:
            events = self._events_upto(days) - self._events_upto(previous)
            if events >= minimum and self.at_risk_at(days) >= minimum:
                grid.append(days)
                steps.append(events)
                previous = days
            month += 1
        return [
            {**point, "events": events}
            for point, events in zip(self._points_at(grid), steps, strict=True)
        ]

    def _points_at(self, days: list[int]) -> list[dict[str, Any]]:
        if not self._event_times():
            return [self._point(t, 1.0, (1.0, 1.0)) for t in days]
        fit = self._fit
        survival = fit.sf.evaluate(days)
        with warnings.catch_warnings():
            # SciPy warns where Greenwood's variance is undefined (S = 0); those bounds are null.
            warnings.simplefilter("ignore", RuntimeWarning)
            interval = fit.sf.confidence_interval(0.95)
            low, high = interval.low.evaluate(days), interval.high.evaluate(days)
        return [
            self._point(t, s, (lo, hi))
            for t, s, lo, hi in zip(days, survival, low, high, strict=True)
        ]

    def _point(self, t: int, survival: Any, bounds: tuple[Any, Any]) -> dict[str, Any]:
        s = _number(survival)
        return {
            "days": t,
            "months": in_months(t),
            "survival": s,
            "cumulative_incidence": None if s is None else round(1 - s, 4),
            "ci_low": _number(bounds[0]),
            "ci_high": _number(bounds[1]),
            "at_risk": self.at_risk_at(t),
            "events": self._events_upto(t) - self._events_before(t),
        }

    def at_risk_at(self, days: int) -> int:
        """Those observed for at least ``days`` (with the event then or later, or censored)."""
        times, before = self._seen
        return self.n - before[bisect_left(times, days)]

    def survival_at(self, days: int) -> float | None:
        """S(days), or None beyond the follow-up (or with no one observed)."""
        end = self.follow_up
        if end is None or days > end:
            return None
        if not self._event_times():
            return 1.0
        return _number(self._fit.sf.evaluate(days))

    def incidence_at(self, days: int) -> float | None:
        """1 - S(days): the estimated share with the event by then, or None if not yet known."""
        s = self.survival_at(days)
        return None if s is None else round(1 - s, 4)

    def median(self) -> int | None:
        """The first day on which S falls to 0.5 or below; None if it never does (yet)."""
        if not self._event_times():
            return None
        fit = self._fit
        for t, s in zip(fit.sf.quantiles, fit.sf.probabilities, strict=True):
            if float(s) <= 0.5:
                return int(t)
        return None

    def monthly_median(self, origin: dt.date) -> tuple[int, int] | None:
        """(days, months): the first whole month after ``origin`` by which S <= 0.5."""
        end = self.follow_up
        if end is None or not self._event_times():
            return None
        grid: list[int] = []
        while (days := horizon_days(origin, len(grid) + 1)) <= end:
            grid.append(days)
        # One evaluation over the whole grid: SciPy's per-call overhead dominates otherwise.
        for month, s in enumerate(self._fit.sf.evaluate(grid) if grid else [], start=1):
            if float(s) <= 0.5:
                return grid[month - 1], month
        return None


def _by_time(item: tuple[Observation, int]) -> tuple[int, bool]:
    return item[0].days, item[0].event


def _cumulative(counted: Iterable[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Distinct sorted times, and the running count before each (one more entry: the total)."""
    by_time: dict[int, int] = {}
    for days, count in counted:
        by_time[days] = by_time.get(days, 0) + count
    times = sorted(by_time)
    before = [0]
    for days in times:
        before.append(before[-1] + by_time[days])
    return times, before


# The figures of one group, as suppressible cells.


def _few_at_risk(minimum: int) -> str:
    return (
        f"estimated from fewer than {minimum} people still followed without the event by then"
        f" ({minimum} is the minimum)"
    )


def estimate(
    km: KaplanMeier, days: int | None, value: Any, n: int, minimum: int, reason: str
) -> dict[str, Any]:
    """A Kaplan-Meier figure at ``days``: suppressed where fewer than ``minimum`` were at risk.

    The estimate's last steps are then the share of those few who had the event, which
    the group's size alone does not hide.
    """
    few = value is not None and days is not None and km.at_risk_at(days) < minimum
    if few and n >= minimum:
        return {"value": None, "n": None, "suppressed": True, "reason": _few_at_risk(minimum)}
    return figure(value, n, minimum, reason)


def _curve(km: KaplanMeier, n: int, minimum: int, origin: dt.date | None) -> dict[str, Any]:
    """The curve on the month grid (:meth:`KaplanMeier.monthly`); when events after its last
    point are withheld, the reason says to which day it is shown."""
    shown = [] if origin is None else km.monthly(origin, minimum)
    curve = figure(shown or None, n, minimum, NO_FOLLOW_UP)
    last = shown[-1]["days"] if shown else 0
    if shown and any(o.event and o.days > last for o in km.observations):
        curve["reason"] = (
            f"shown to day {last}: a later step would hold fewer than {minimum} events, or"
            f" fewer than {minimum} people still followed ({minimum} is the minimum)"
        )
    return curve


def _shorter(months: int) -> str:
    return f"follow-up shorter than {months} months"


def time_to_event(
    followed: Mapping[tuple[dt.date, Observation], int],
    n: int,
    view_day: dt.date,
    minimum: int,
    horizons: tuple[int, ...],
    complement: bool = False,
) -> dict[str, Any]:
    """Curve, incidence at each horizon (or its complement), observed shares and median.

    ``followed`` counts the people by origin and observation. ``n`` is the number of people
    behind every cell: those followed, or if no one is followed yet, the group (whose figures
    are then unknown rather than suppressed).
    """
    counted: Counter[Observation] = Counter()
    for (_, o), count in followed.items():
        counted[o] += count
    km = KaplanMeier.counted(counted)
    origins = {t0 for (t0, _), count in followed.items() if count}  # a few end dates
    origin = min(origins, default=None)

    def flip(value: float | None) -> float | None:
        if value is None or not complement:
            return value
        return round(1 - value, 4)

    estimated, observed = {}, {}
    for months in horizons:
        share = None
        if origins and all(add_months(t0, months) <= view_day for t0 in origins):
            ends = {t0: horizon_days(t0, months) for t0 in origins}
            within = sum(c for (t0, o), c in followed.items() if o.event and o.days <= ends[t0])
            share = round(within / n, 4)
        days = None if origin is None else horizon_days(origin, months)
        incidence = None if days is None else km.incidence_at(days)
        reason = NO_FOLLOW_UP if origin is None else _shorter(months)
        estimated[str(months)] = estimate(km, days, flip(incidence), n, minimum, reason)
        observed[str(months)] = figure(flip(share), n, minimum, reason)
    if complement:
        return {"estimated": estimated, "observed": observed}
    coarse = None if origin is None else km.monthly_median(origin)
    median, months_to_median = coarse if coarse else (None, None)
    no_median = NO_FOLLOW_UP if origin is None else NOT_REACHED
    return {
        "curve": _curve(km, n, minimum, origin),
        "incidence": estimated,
        "observed": observed,
        "median_days": estimate(km, median, median, n, minimum, no_median),
        "median_months": estimate(km, median, months_to_median, n, minimum, no_median),
    }
