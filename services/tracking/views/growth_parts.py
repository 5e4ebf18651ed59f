"""A pooled growth answer from per-cohort parts: what one new result makes be computed again.

A programme's or the organisation's growth (:mod:`.growth`) is a function of its cohorts'
participants and their ratings. Each cohort's **part** holds what it contributes: how many take
part, who of them has results, which instruments they were rated with, and each person's
rater-group values per instrument, dimension and wave (:func:`~.ratings.group_values`,
digested as :class:`~.growth_rated.Rated`). A part
is read from the cohort's own rows only, so it is kept (:meth:`.memo.Memo.get_each`) under the
cohort's scoped counters (``tr_results@C`` and ``tr_participation@C``, raised by the projector
in the transaction that writes them, :mod:`services.tracking.changes`) and the instruments'.
A new result, correction, void or enrolment change of cohort C makes only C's part be read
again; the pool is then merged from the parts and planned as before, each dimension and rater
group's block of cells taken as last planned when its values are equal to those it was planned
from (:func:`~.growth_plan.planned_values`): the same figures and the same cells to release
(:func:`pooled_planned` equals ``planned(population(...))``; the tests compare them after
random sequences of events, live, ``as_of`` and ``on``).

A part is kept per timeframe like any memo entry: an ``as_of`` or ``on`` answer reads and keeps
its own parts.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.tracking.changes import scoped
from services.tracking.views import memo as memos
from services.tracking.views.cohorts import participants
from services.tracking.views.growth_plan import Blocks, Planned, planned_values
from services.tracking.views.growth_rated import Rated
from services.tracking.views.memo import Memo
from services.tracking.views.privacy import Policy, cell
from services.tracking.views.ratings import (
    Instrument,
    group_values,
    growth_instruments,
    ratings,
)
from shared.sql import Cursor


@dataclass(frozen=True)
class CohortPart:
    """One cohort's contribution to a pooled growth answer."""

    participants: int
    """Enrolled, not withdrawn: a cohort below the minimum is left out of a pool."""
    people: frozenset[str]
    """The participants with results of a growth instrument."""
    rated: dict[str, Rated]
    """Per instrument rated, its slots' rater-group values digested."""


def part_tables(cohort_id: str) -> tuple[str, ...]:
    """What a cohort's part is read from."""
    return (
        "tr_instruments",
        scoped("tr_results", cohort_id),
        scoped("tr_participation", cohort_id),
    )


def cohort_part(cur: Cursor, cohort_id: str, instruments: dict[str, Instrument]) -> CohortPart:
    taking_part = set(participants(cur, cohort_id))
    found = [
        r for r in ratings(cur, instruments, cohort_ids=[cohort_id]) if r.person_id in taking_part
    ]
    used = {r.instrument_id for r in found}
    return CohortPart(
        len(taking_part),
        frozenset(r.person_id for r in found),
        {iid: Rated.of(group_values(instruments[iid], found)) for iid in sorted(used)},
    )


def cohort_parts(
    cur: Cursor, cohort_ids: list[str], policy: Policy, memo: Memo | None = None
) -> tuple[dict[str, Instrument], list[CohortPart]]:
    """The growth instruments and each cohort's part, kept per cohort in ``memo``."""
    instruments = growth_instruments(cur, policy)
    parts = memos.each(
        memo,
        cur,
        [
            (
                ("growth part", cohort_id, policy),
                lambda c=cohort_id: cohort_part(cur, c, instruments),  # type: ignore[misc]
                part_tables(cohort_id),
            )
            for cohort_id in cohort_ids
        ],
    )
    return instruments, parts


def taking_part(
    cur: Cursor, cohort_ids: list[str], policy: Policy, memo: Memo | None = None
) -> list[str]:
    """The cohorts with at least the minimum of participants (from their parts)."""
    _, parts = cohort_parts(cur, cohort_ids, policy, memo)
    return [
        c for c, part in zip(cohort_ids, parts, strict=True) if part.participants >= policy.minimum
    ]


def pooled_planned(
    cur: Cursor, cohort_ids: list[str], policy: Policy, memo: Memo | None = None
) -> Planned:
    """``planned(population(cur, cohort_ids, policy))``, merged from the cohorts' parts."""
    instruments, parts = cohort_parts(cur, cohort_ids, policy, memo)
    blocks: Blocks | None = None
    if memo is not None:  # the pool's blocks as last planned, whatever the counters
        blocks = memo.parts.get(cur, ("growth blocks", tuple(cohort_ids), policy), dict, ())
    minimum = max((i.minimum for i in instruments.values()), default=policy.minimum)
    used = {iid for part in parts for iid in part.rated}
    chosen = sorted(
        (i for i in instruments.values() if i.instrument_id in used),
        key=lambda i: (i.name, i.instrument_id),
    )
    people = len(frozenset().union(*(part.people for part in parts)))
    answers, wanted, inputs = [], {}, {}
    for i in chosen:
        rated = Rated.merged(p.rated[i.instrument_id] for p in parts if i.instrument_id in p.rated)
        answer, wanted[i.instrument_id], inputs[i.instrument_id] = planned_values(i, rated, blocks)
        answers.append(answer)
    return Planned(
        {"people": cell(people, people, minimum), "minimum": minimum, "instruments": answers},
        wanted,
        inputs,
    )
