"""The growth figures of the TEMPO pilot, computed from the scenario's own ratings.

Pure functions of :func:`services.scenario.assessment.behaviour_ratings` and the scenario's
people, written without the tracking code: plain ``statistics`` and SciPy's t quantile. The API
tests and the end-to-end Kafka test compare the growth view against these.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import NamedTuple

from scipy import stats

from services.scenario import enrolment
from services.scenario.assessment import BEHAVIOUR, behaviour_ratings
from services.scenario.organisation import PARTICIPANTS

RATER_MINIMUMS = {"self": 1, "manager": 1, "peer": 3, "direct_report": 3, "coach": 1}
"""The assessment service's documented defaults; the scenario's instrument sets none."""
MINIMUM = 5
"""The scenario's behaviour assessment sets no min_group_size: the default k of 5."""
REVERSE_SCORED = {d["key"] for d in BEHAVIOUR["dimensions"] if d.get("reverse_scored")}
DIMENSIONS = [d["key"] for d in BEHAVIOUR["dimensions"]]


def taking_part(department: str | None = None) -> list[str]:
    """Participant keys (P01...) who did not withdraw; by registered department if given.

    No career move of the scenario starts before the cohort does, so the department people
    were registered in is their department on the cohort's start date.
    """
    start = enrolment.COHORT["start_date"]
    assert all(m.start_date.isoformat() > start for m in enrolment.MOVES)
    return [
        m.key
        for m in PARTICIPANTS
        if m.key != enrolment.WITHDRAWN and (department is None or m.department == department)
    ]


def person_values(department: str | None = None) -> dict[tuple[str, str, str, str], float]:
    """(person key, wave, rater group, dimension) -> the mean over the group's raters,
    for groups with at least their minimum of raters."""
    people = set(taking_part(department))
    raters: dict[tuple[str, str, str], list[dict[str, int]]] = defaultdict(list)
    for rating in behaviour_ratings():
        if rating.person in people:
            raters[(rating.person, rating.wave, rating.rater_group)].append(rating.scores)
    values = {}
    for (person, wave, group), scores in raters.items():
        if len(scores) >= RATER_MINIMUMS[group]:
            for dimension in DIMENSIONS:
                values[(person, wave, group, dimension)] = statistics.fmean(
                    s[dimension] for s in scores
                )
    return values


class WaveFigures(NamedTuple):
    n: int
    mean: float
    sd: float


def wave_figures(
    dimension: str, group: str, wave: str, department: str | None = None
) -> WaveFigures:
    values = [
        v
        for (_, w, g, d), v in person_values(department).items()
        if (w, g, d) == (wave, group, dimension)
    ]
    return WaveFigures(len(values), statistics.fmean(values), statistics.stdev(values))


class ChangeFigures(NamedTuple):
    pairs: int
    mean_difference: float
    sd_difference: float
    ci_low: float
    ci_high: float
    d_z: float | None
    improvement: float


def change_figures(dimension: str, group: str, later: str = "post") -> ChangeFigures:
    """Baseline -> ``later``: mean and SD of the differences, the 95% t-interval, d_z."""
    values = person_values()
    differences = [
        values[(person, later, group, dimension)] - values[(person, "baseline", group, dimension)]
        for person in taking_part()
        if (person, later, group, dimension) in values
        and (person, "baseline", group, dimension) in values
    ]
    n = len(differences)
    mean = statistics.fmean(differences)
    sd = statistics.stdev(differences)
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    improvement = -mean if dimension in REVERSE_SCORED else mean
    return ChangeFigures(
        n, mean, sd, mean - half, mean + half, mean / sd if sd else None, improvement
    )


def summary(group: str) -> float:
    """The mean improvement baseline -> post over every dimension, for ``group``."""
    return statistics.fmean(change_figures(d, group).improvement for d in DIMENSIONS)
