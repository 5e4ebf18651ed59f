"""Mobility and network figures of the TEMPO pilot, computed from the scenario's own data.

Independent of the product: a plain product-limit (Kaplan-Meier) computation with Greenwood's
variance, calendar months counted by hand, move scopes derived from the scenario's placements,
peer-group spans from the scenario's members. Pure functions of ``services.scenario``: no HTTP,
no read model, so the end-to-end tests can reuse them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist
from typing import Any

from services.scenario.enrolment import COHORT, MOVES, PEER_GROUPS, PLACEMENT_CHANGE, WITHDRAWN
from services.scenario.organisation import COLLEAGUES, MEMBERS, ORGANISATION, PARTICIPANTS

ORIGIN = dt.date.fromisoformat(COHORT["end_date"])
START = dt.date.fromisoformat(COHORT["start_date"])
MINIMUM = 5
HORIZONS = (6, 12, 24)
SCOPES = (
    "same_unit",
    "other_unit",
    "other_department",
    "group_agency",
    "other_state_organisation",
    "outside_state",
)


def participants() -> list[str]:
    """Enrolled and not withdrawn."""
    return [m.key for m in PARTICIPANTS if m.key != WITHDRAWN]


def comparison(
    department: str | None = None, profession: str | None = None, role: str | None = None
) -> list[str]:
    """Colleagues (never enrolled, all in the ministry on the origin), narrowed by the filters."""
    return [
        m.key
        for m in COLLEAGUES
        if (department is None or placement(m.key, ORIGIN)[0] == department)
        and (profession is None or m.profession_category == profession)
        and (role is None or m.role == role)
    ]


def placement(key: str, day: dt.date) -> tuple[str, str]:
    """(department, unit) on ``day``: registration, then the reorganisation, then moves."""
    member = MEMBERS[key]
    where = (member.department, member.unit)
    changes = [(PLACEMENT_CHANGE[3], PLACEMENT_CHANGE[0], PLACEMENT_CHANGE[1:3])]
    changes += [
        (m.start_date, m.key, (m.department, m.unit))
        for m in MOVES
        if m.kind in ("transfer", "new_post", "promotion")
    ]
    for effective, who, there in sorted(changes, key=lambda c: c[0]):
        if who == key and effective <= day:
            where = there  # type: ignore[assignment]
    return where


def add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    last = day.day
    while True:
        try:
            return dt.date(year, month, last)
        except ValueError:
            last -= 1


def horizon(months: int) -> int:
    return (add_months(ORIGIN, months) - ORIGIN).days


def scope_of(move: Any) -> str:
    if move.scope is not None:
        return str(move.scope)
    if move.kind == "left_state":
        return "outside_state"
    department, unit = placement(move.key, move.start_date - dt.timedelta(days=1))
    if move.organisation != ORGANISATION:
        raise AssertionError("moves elsewhere give their scope in the scenario")
    if move.department != department:
        return "other_department"
    return "same_unit" if move.unit == unit else "other_unit"


def observations(
    keys: list[str], day: dt.date, kinds: tuple[str, ...] | None = None
) -> list[tuple[int, bool]]:
    """(days, moved) per person: their first move after the origin by ``day``, else censored.

    Leaving the state censors the follow-up for the other kinds of move on the day of leaving.
    """
    result = []
    for key in keys:
        starts = sorted(
            m.start_date
            for m in MOVES
            if m.key == key and ORIGIN < m.start_date <= day and (kinds is None or m.kind in kinds)
        )
        left = sorted(
            m.start_date
            for m in MOVES
            if m.key == key and m.kind == "left_state" and ORIGIN < m.start_date <= day
        )
        competing = left and kinds is not None and "left_state" not in kinds
        if competing and (not starts or left[0] < starts[0]):
            result.append(((left[0] - ORIGIN).days, False))
            continue
        result.append(((starts[0] - ORIGIN).days, True) if starts else ((day - ORIGIN).days, False))
    return result


@dataclass(frozen=True)
class Point:
    days: int
    at_risk: int
    events: int
    survival: float
    ci_low: float | None
    ci_high: float | None


def product_limit(obs: list[tuple[int, bool]]) -> list[Point]:
    """S(t) = prod (1 - d_i / r_i) over event times, with Greenwood's linear 95% interval."""
    if not obs:
        return []
    z = NormalDist().inv_cdf(0.975)
    end = max(t for t, _ in obs)
    times = sorted({0, end, *(t for t, moved in obs if moved)})
    points, s, greenwood = [], 1.0, 0.0
    for t in times:
        r = sum(1 for u, _ in obs if u >= t)
        d = sum(1 for u, moved in obs if moved and u == t)
        if d:
            s *= 1 - d / r
            greenwood = greenwood + d / (r * (r - d)) if r > d else math.inf
        se = s * math.sqrt(greenwood) if math.isfinite(greenwood) else None
        low = None if se is None else max(0.0, s - z * se)
        high = None if se is None else min(1.0, s + z * se)
        points.append(Point(t, r, d, s, low, high))
    return points


def survival_at(points: list[Point], day: int) -> float | None:
    if not points or day > points[-1].days:
        return None
    return [p for p in points if p.days <= day][-1].survival


def monthly(obs: list[tuple[int, bool]], minimum: int = MINIMUM) -> list[Point]:
    """The curve as released: the origin, then each month end (counted from ORIGIN) that
    closes a step of at least ``minimum`` moves with at least ``minimum`` still followed;
    survival and interval there are the product limit's, events those since the last point."""
    points = product_limit(obs)
    if not points:
        return []
    shown, previous, month = [points[0]], 0, 1
    while (day := horizon(month)) <= points[-1].days:
        moved = sum(1 for t, m in obs if m and previous < t <= day)
        followed = sum(1 for t, _ in obs if t >= day)
        if moved >= minimum and followed >= minimum:
            last = [p for p in points if p.days <= day][-1]
            shown.append(Point(day, followed, moved, last.survival, last.ci_low, last.ci_high))
            previous = day
        month += 1
    return shown


def median(points: list[Point]) -> int | None:
    """Days to the first month end (from ORIGIN) by which survival is at most one half."""
    month = 1
    while points and horizon(month) <= points[-1].days:
        s = survival_at(points, horizon(month))
        if s is not None and s <= 0.5:
            return horizon(month)
        month += 1
    return None


def observed_share(obs: list[tuple[int, bool]], months: int, day: dt.date) -> float | None:
    if day < add_months(ORIGIN, months):
        return None
    return sum(moved and t <= horizon(months) for t, moved in obs) / len(obs)


def survival_figures(obs: list[tuple[int, bool]], day: dt.date) -> dict[str, Any]:
    points = product_limit(obs)
    incidence = {}
    for months in HORIZONS:
        s = survival_at(points, horizon(months))
        incidence[str(months)] = None if s is None else 1 - s
    return {
        "points": monthly(obs),
        "incidence": incidence,
        "observed": {str(m): observed_share(obs, m, day) for m in HORIZONS},
        "median_days": median(points),
    }


def retention(keys: list[str], day: dt.date) -> dict[str, float | None]:
    points = product_limit(observations(keys, day, ("left_state",)))
    return {str(m): survival_at(points, horizon(m)) for m in (12, 24)}


def scope_counts(keys: list[str], day: dt.date) -> dict[str, int]:
    counts = dict.fromkeys(SCOPES, 0)
    for move in MOVES:
        if move.key in keys and ORIGIN < move.start_date <= day:
            counts[scope_of(move)] += 1
    return counts


def group(keys: list[str], day: dt.date) -> dict[str, Any]:
    """Every mobility figure of a group of scenario keys, as plain values."""
    return {
        "people": len(keys),
        "first_move": survival_figures(observations(keys, day), day),
        "first_rotation": survival_figures(observations(keys, day, ("job_rotation",)), day),
        "scopes": scope_counts(keys, day),
        "retention": retention(keys, day),
    }


# The network of peer groups.


@dataclass(frozen=True)
class Span:
    members: int
    departments: int
    units: int
    cross_unit_ties: int
    pairs: int


def peer_groups() -> dict[str, Span]:
    """Per group name: current members (the withdrawn one removed), placed on the start date."""
    result = {}
    for name, keys in PEER_GROUPS.items():
        current = [k for k in keys if k != WITHDRAWN]
        where = {k: placement(k, START) for k in current}
        pairs = list(combinations(current, 2))
        result[name] = Span(
            members=len(current),
            departments=len({d for d, _ in where.values()}),
            units=len(set(where.values())),
            cross_unit_ties=sum(where[a] != where[b] for a, b in pairs),
            pairs=len(pairs),
        )
    return result


def network_totals() -> dict[str, float]:
    """Over the groups at or above the minimum only."""
    shown = [s for s in peer_groups().values() if s.members >= MINIMUM]
    return {
        "members": sum(s.members for s in shown),
        "mean_departments": sum(s.departments for s in shown) / len(shown),
        "mean_units": sum(s.units for s in shown) / len(shown),
        "cross_unit_share": sum(s.cross_unit_ties for s in shown) / sum(s.pairs for s in shown),
    }
