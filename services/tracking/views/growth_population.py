"""Whose results a growth answer is computed from: the cohorts' participants with results.

The population is the participants (enrolled, not withdrawn) of the cohorts asked for who have
non-voided results of the growth instruments in scope, optionally only those placed in one
department on their cohort's start date. ``base`` (whatever the department) and ``members``
are what the differencing guard compares.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.tracking.views.cohorts import CohortFacts, cohort, participants, placements_on
from services.tracking.views.privacy import Policy
from services.tracking.views.ratings import Instrument, Rating, growth_instruments, ratings
from shared.sql import Cursor


@dataclass(frozen=True)
class Population:
    """Whose results a growth answer is computed from, before any figure is."""

    cohorts: list[CohortFacts]
    instruments: dict[str, Instrument]
    ratings: list[Rating]
    base: set[str]
    """Participants with results in scope, whatever their department."""
    members: set[str]
    """Those of ``base`` the filters keep: the people the answer describes."""
    minimum: int
    """The strictest minimum of the instruments in scope: the differencing guard's."""


def population(
    cur: Cursor,
    cohort_ids: list[str],
    policy: Policy,
    *,
    instrument_id: str | None = None,
    rater_group: str | None = None,
    department: str | None = None,
) -> Population:
    """The participants of ``cohort_ids`` with results; ``department`` is the placement on
    each cohort's start date."""
    cohorts = [cohort(cur, cohort_id) for cohort_id in cohort_ids]
    instruments = growth_instruments(cur, policy, instrument_id)
    taking_part = {c.cohort_id: set(participants(cur, c.cohort_id)) for c in cohorts}
    found = [
        r
        for r in ratings(cur, instruments, cohort_ids=cohort_ids, rater_group=rater_group)
        if r.person_id in taking_part.get(r.cohort_id, set())
    ]
    base = {r.person_id for r in found}
    if department is not None:
        placed: set[tuple[str, str]] = set()
        for c in cohorts:
            on_start = placements_on(cur, c.start_date, sorted(taking_part[c.cohort_id]))
            placed |= {
                (c.cohort_id, p) for p, at in on_start.items() if at.department == department
            }
        found = [r for r in found if (r.cohort_id, r.person_id) in placed]
    minimum = max((i.minimum for i in instruments.values()), default=policy.minimum)
    members = {r.person_id for r in found}
    return Population(cohorts, instruments, found, base, members, minimum)
