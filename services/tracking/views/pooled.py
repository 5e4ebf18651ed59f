"""Growth, mobility and staff survey of several cohorts pooled: a programme's or the organisation's.

The cohorts are a programme's, or every cohort tracking knows, optionally only those starting in
one calendar year (:func:`services.tracking.views.pooled_funnel.scope_cohorts`). Each figure is
the cohort view's own, computed over the pooled population, through the same rules:

- **Growth** (:mod:`.growth`): the participants (not withdrawn) of the pooled cohorts with results
  of the growth instruments, leaving out a cohort with fewer participants than the minimum
  (``participant_cohorts`` lists those pooled); per instrument, dimension, rater group and
  wave the n, mean, SD and interval, and the paired changes. Each cell's population is checked
  against the release ledger, as any cohort's: a year's or programme's cell that differs from
  one released before (for a cohort, another year, another scope) by 1 to ``minimum - 1``
  people is withheld.
- **Mobility** (:mod:`.mobility`): the participants, each followed from their own cohort's end
  (the first, if in several), against the comparison group (everyone placed in the cohorts'
  organisations on a cohort's end date, never enrolled, each from the first such end date); the
  Kaplan-Meier curves, incidences at 6, 12 and 24 months, retention and moves by scope, and
  participants minus comparison. A cohort with fewer participants than the minimum is left out
  of the pooled participants (the pooled figure less the other cohorts' would describe its
  people). Both groups pass the mobility release ledger, whose family is the organisation.
- **Staff survey** (:func:`.staff_survey.staff_survey_summary`): per index, the mean over every
  (cohort, instrument, unit of its participants) with values in the year before the cohort and
  the first year after of (the unit's change - its organisation's change), and their mean as
  ``total``. A cohort smaller than the minimum names no units. Staff-survey values are results
  of at least the instrument's minimum respondents.

A year filter is a filter like any other: it only chooses the cohorts, and every figure above
is then suppressed or withheld by the same rules as without it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.tracking.views import growth, growth_parts, mobility
from services.tracking.views.cohorts import participants
from services.tracking.views.ledger import Releases
from services.tracking.views.memo import Memo
from services.tracking.views.privacy import Policy
from services.tracking.views.staff_survey import staff_survey_summary


def pooled_growth(
    cur: Any, cohort_ids: list[str], policy: Policy, releases: Releases, memo: Memo | None = None
) -> dict[str, Any]:
    pooled = growth_parts.taking_part(cur, cohort_ids, policy, memo)
    answer = growth.kept_growth(cur, pooled, policy, releases, memo)
    return {"participant_cohorts": pooled, **answer}


def taking_part(cur: Any, cohort_ids: list[str], policy: Policy) -> list[str]:
    """The cohorts with at least the minimum of participants: the others are left out of a
    pool, as their cohort views suppress them (the pool less the rest would describe them)."""
    return [c for c in cohort_ids if len(participants(cur, c)) >= policy.minimum]


def pooled_mobility(
    cur: Any,
    cohort_ids: list[str],
    policy: Policy,
    view_day: dt.date,
    releases: Releases,
    memo: Memo | None = None,
) -> dict[str, Any]:
    chosen, pooled = mobility.pooled_participants(
        cur, mobility.groups(cur, cohort_ids, {}, memo), cohort_ids, policy.minimum, memo
    )
    return {
        "view_date": view_day.isoformat(),
        "participant_cohorts": pooled,
        **mobility.figures(cur, chosen, policy.minimum, view_day, releases, memo),
    }


def pooled_staff_survey(
    cur: Any, cohort_ids: list[str], policy: Policy, memo: Memo | None = None
) -> dict[str, Any]:
    return staff_survey_summary(cur, cohort_ids, policy, memo)


STAFF_COLUMNS = ["index", "label", "value", "n", "suppressed", "reason"]


def staff_csv(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per index, then the total."""
    rows = [
        [key, view["labels"].get(key), c["value"], c["n"], c["suppressed"], c["reason"]]
        for key, c in sorted(view["indices"].items())
    ]
    total = view["total"]
    rows.append(["total", None, total["value"], total["n"], total["suppressed"], total["reason"]])
    return STAFF_COLUMNS, rows
