"""The matched comparison of a cohort's mobility: who is matched, and the balance table.

The matching itself (exact, up to three controls each, deterministic) and the balance table
are defined in :mod:`.matching`; the figures of the matched groups are the same as the
unmatched ones' (:func:`services.tracking.views.mobility.figures`), over the matched
participants and their controls, each followed from the origin they have in the cohort's
comparison group, and through the same release ledger. The candidates' departments on the
cohort's start date are a read of the organisation's placements: kept in the memo, and so are
the matching and its balance table, which read every candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from services.tracking.views import memo as memos
from services.tracking.views.cohorts import CohortFacts, attributes, placements_on
from services.tracking.views.matching import RATIO, Matched, balance, match, strata_of
from services.tracking.views.memo import Memo
from services.tracking.views.mobility_delta import attributes_update, strata_update
from services.tracking.views.privacy import cell
from shared.sql import Cursor


@dataclass(frozen=True)
class Matching:
    found: Matched
    table: list[dict[str, Any]]


def _departments(cur: Cursor, day: str, people: list[str]) -> dict[str, str | None]:
    return {p: placed.department for p, placed in placements_on(cur, day, people).items()}


def matching(
    cur: Cursor,
    facts: CohortFacts,
    participants: list[str],
    comparison: list[str],
    filters: dict[str, str],
    minimum: int,
    memo: Memo | None = None,
) -> Matching:
    """The cohort's matched controls among ``comparison`` and the balance table."""
    known = memos.get(
        memo,
        cur,
        ("attributes",),
        partial(attributes, cur),
        ("tr_people",),
        partial(attributes_update, cur),
    )
    key = ("matching candidates", facts.cohort_id, facts.start_date, tuple(sorted(filters.items())))
    candidates = memos.get(
        memo,
        cur,
        key,
        lambda: strata_of(comparison, _departments(cur, facts.start_date, comparison), known),
        ("tr_placements", "tr_moves", "tr_participation", "tr_people"),  # mobility.COMPARED
        partial(strata_update, cur, facts.start_date, comparison, known),
    )

    def made() -> Matching:
        ours = strata_of(participants, _departments(cur, facts.start_date, participants), known)
        found = match(facts.cohort_id, ours, candidates)
        table = balance(ours, {c: candidates[c] for c in found.controls}, candidates, minimum)
        return Matching(found, table)

    # The matching and its balance table read every candidate: kept under the same counters
    # as the candidates, for these participants (the answer's cells may be released in place,
    # so each request gets its own copy of the table).
    kept = memos.get(
        memo,
        cur,
        ("matching", *key[1:], tuple(participants), minimum),
        made,
        ("tr_placements", "tr_moves", "tr_participation", "tr_people"),
    )
    return Matching(kept.found, memos.unshared(kept.table))


def header(found: Matched, participants: int, minimum: int) -> dict[str, Any]:
    """What the matched answer says about the matching itself."""
    return {
        "method": "exact on department at the cohort's start, role, profession and education;"
        f" up to {RATIO} controls per participant without replacement; ties by SHA-256",
        "ratio": RATIO,
        "matched_participants": cell(len(found.matched), participants, minimum),
        "unmatched_participants": cell(found.unmatched, participants, minimum),
        "controls": cell(len(found.controls), len(found.controls), minimum),
    }
