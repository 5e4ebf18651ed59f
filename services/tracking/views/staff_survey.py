"""Staff-survey trends (Kirkpatrick L4): the units that sent participants against the organisation.

The units are those of the cohort's participants (enrolled, not withdrawn) on the cohort's start
date; how many people each sent is never shown, since a small count identifies them. Per
staff-survey instrument, the view gives each unit's, its department's and the organisation's
index values per year: cells with ``n`` = respondents, suppressed below the instrument's minimum
group size (the assessment service refuses such results; this guards against any stored before).

Before and after: ``before_year`` is the latest survey year before the cohort's start year, the
after years those after its end year. Per index and after year, ``units`` is the mean over the
units with a value in both years of (after - before); ``organisation`` the same for the
participants' organisations (in practice one); ``difference`` the mean over those units of
(the unit's change - its organisation's change): a difference-in-differences, which equals
``units - organisation`` when all participants come from one organisation. The ``n`` of a change
is the respondents behind its after-year values.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from services.tracking.views import memo as memos
from services.tracking.views.cohorts import CohortFacts, cohort, participants, placements_on
from services.tracking.views.did import interval_cells
from services.tracking.views.memo import Memo
from services.tracking.views.privacy import Policy, cell, figure
from services.tracking.views.staff_indices import Key, Survey, org_key, surveys, unit_key
from shared.sql import Cursor

NO_INDEX = "the result of that year has no value for this index"


@dataclass(frozen=True)
class Units:
    """Where the participants were placed on the cohort's start date."""

    units: list[tuple[str, str, str]]
    departments: list[tuple[str, str]]
    organisations: list[str]
    withheld: str | None = None
    """Why no unit is named: a cohort smaller than the minimum would be identified by them."""


def participant_units(cur: Cursor, facts: CohortFacts, minimum: int) -> Units:
    people = participants(cur, facts.cohort_id)
    placed = placements_on(cur, facts.start_date, people).values()
    organisations = sorted({p.organisation for p in placed})
    if len(people) < minimum:
        reason = f"the cohort has fewer than {minimum} participants: their units would name them"
        return Units([], [], organisations, reason)
    return Units(
        sorted({(p.organisation, p.department, p.unit) for p in placed if p.department and p.unit}),
        sorted({(p.organisation, p.department) for p in placed if p.department}),
        organisations,
    )


def before_and_after(facts: CohortFacts, years: Iterable[int]) -> tuple[int | None, list[int]]:
    start, end = int(facts.start_date[:4]), int(facts.end_date[:4])
    years = sorted(years)
    before = max((y for y in years if y < start), default=None)
    return before, [y for y in years if y > end]


def _mean_cell(found: list[tuple[float, int]], minimum: int, reason: str) -> dict[str, Any]:
    if not found:
        return {"value": None, "n": None, "suppressed": False, "reason": reason}
    value = round(statistics.fmean(v for v, _ in found), 4)
    return cell(value, sum(n for _, n in found), minimum)


def differences(
    survey: Survey, units: list[tuple[str, str, str]], before: int, after: int, index: str
) -> list[tuple[float, int]]:
    """Per unit with values in both years, (its change - its organisation's change) and its n."""
    found = []
    for unit in units:
        mine, theirs = (
            survey.change(unit_key(unit), before, after, index),
            survey.change(org_key(unit[0]), before, after, index),
        )
        if mine is not None and theirs is not None:
            found.append((mine[0] - theirs[0], min(mine[1], theirs[1])))
    return found


def _change(survey: Survey, where: Units, before: int, after: int, index: str) -> dict[str, Any]:
    k = survey.minimum
    units = [
        c
        for u in where.units
        if (c := survey.change(unit_key(u), before, after, index)) is not None
    ]
    orgs = [
        c
        for o in where.organisations
        if (c := survey.change(org_key(o), before, after, index)) is not None
    ]
    missing = f"no value for both {before} and {after}"
    found = differences(survey, where.units, before, after, index)
    return {
        "year": after,
        "units": _mean_cell(
            units, k, f"no participant's unit has a value for both {before} and {after}"
        ),
        "organisation": _mean_cell(orgs, k, f"the organisation has {missing}"),
        "difference": _mean_cell(
            found, k, f"no participant's unit and its organisation both have {missing}"
        ),
        **interval_cells(found, k),
    }


def _series(survey: Survey, key: Key) -> list[dict[str, Any]]:
    series = []
    for year, (respondents, values) in sorted(survey.results.get(key, {}).items()):
        series.append(
            {
                "year": year,
                "values": {
                    i["key"]: figure(values.get(i["key"]), respondents, survey.minimum, NO_INDEX)
                    for i in survey.indices
                },
            }
        )
    return series


def _report(survey: Survey, facts: CohortFacts, where: Units) -> dict[str, Any]:
    before, after = before_and_after(facts, survey.years)
    change = []
    for index in survey.indices:
        rows = (
            []
            if before is None
            else [_change(survey, where, before, a, index["key"]) for a in after]
        )
        change.append({"index": index["key"], "label": index["label"], "after": rows})
    return {
        "instrument_id": survey.instrument_id,
        "name": survey.name,
        "minimum": survey.minimum,
        "indices": survey.indices,
        "years": survey.years,
        "before_year": before,
        "after_years": after,
        "units": [
            {
                "organisation": o,
                "department": d,
                "unit": u,
                "years": _series(survey, ("unit", o, d, u)),
            }
            for o, d, u in where.units
        ],
        "departments": [
            {
                "organisation": o,
                "department": d,
                "years": _series(survey, ("department", o, d, None)),
            }
            for o, d in where.departments
        ],
        "organisations": [
            {"organisation": o, "years": _series(survey, org_key(o))} for o in where.organisations
        ],
        "change": change,
    }


def kept_surveys(
    cur: Cursor, policy: Policy, instrument_id: str | None = None, memo: Memo | None = None
) -> list[Survey]:
    """:func:`~.staff_indices.surveys`, kept in ``memo`` while the facts hold (:mod:`.memo`):
    every unit's series of the organisation is read once, not per request. The views only
    read the surveys they are given."""
    key = ("staff surveys", instrument_id, policy)
    return memos.get(
        memo,
        cur,
        key,
        partial(surveys, cur, policy, instrument_id),
        ("tr_instruments", "tr_staff_survey"),
    )


def staff_survey(
    cur: Cursor,
    cohort_id: str,
    policy: Policy,
    instrument_id: str | None = None,
    memo: Memo | None = None,
) -> dict[str, Any]:
    """The staff-survey trends of the cohort's units, per instrument."""
    facts = cohort(cur, cohort_id)
    where = participant_units(cur, facts, policy.minimum)
    found = kept_surveys(cur, policy, instrument_id, memo)
    return {
        **facts.header(),
        "units_withheld": where.withheld,
        "instruments": [_report(s, facts, where) for s in found],
    }


def staff_survey_summary(
    cur: Cursor, cohort_ids: list[str], policy: Policy, memo: Memo | None = None
) -> dict[str, Any]:
    """L4 for several cohorts: per index and in total, the units' change minus the organisation's.

    For each cohort, its participants' units and its first after year; the difference is the
    mean over every (cohort, instrument, unit) with values in the before year and the first
    after year of (the unit's change - its organisation's change). ``total`` is the mean of the
    indices' differences; its ``n`` the largest of theirs. For several cohorts the answer is
    kept in ``memo`` while the facts behind it hold (:mod:`.memo`).
    """
    if len(cohort_ids) < 2:
        return _summary(cur, cohort_ids, policy, memo)
    return memos.unshared(
        memos.get(
            memo,
            cur,
            ("staff survey summary", tuple(cohort_ids), policy),
            partial(_summary, cur, cohort_ids, policy, memo),
            STAFF_TABLES,
        )
    )


STAFF_TABLES = (
    "tr_cohorts",
    "tr_participation",
    "tr_placements",
    "tr_instruments",
    "tr_staff_survey",
)
"""What a staff-survey summary is read from: the cohorts, their participants' placements,
and the surveys."""


def _summary(
    cur: Cursor, cohort_ids: list[str], policy: Policy, memo: Memo | None
) -> dict[str, Any]:
    found = kept_surveys(cur, policy, None, memo)
    minimum = max((s.minimum for s in found), default=policy.minimum)
    per_index: dict[str, list[tuple[float, int]]] = defaultdict(list)
    years: dict[str, dict[str, dict[str, int | None]]] = {}
    labels = {i["key"]: i["label"] for s in found for i in s.indices}
    for cohort_id in cohort_ids:
        facts = cohort(cur, cohort_id)
        where = participant_units(cur, facts, policy.minimum)
        for survey in found:
            before, after = before_and_after(facts, survey.years)
            years.setdefault(cohort_id, {})[survey.instrument_id] = {
                "before_year": before,
                "after_year": after[0] if after else None,
            }
            if before is None or not after:
                continue
            for index in survey.indices:
                per_index[index["key"]] += differences(
                    survey, where.units, before, after[0], index["key"]
                )
    reason = "no participant's unit has values for the years before and after"
    indices = {key: _mean_cell(per_index.get(key, []), minimum, reason) for key in labels}
    intervals = {key: interval_cells(per_index.get(key, []), minimum) for key in labels}
    shown = [c for c in indices.values() if c["value"] is not None]
    total = (
        cell(
            round(statistics.fmean(c["value"] for c in shown), 4),
            max(c["n"] for c in shown),
            minimum,
        )
        if shown
        else {"value": None, "n": None, "suppressed": False, "reason": reason}
    )
    return {
        "cohorts": list(cohort_ids),
        "years": years,
        "labels": labels,
        "indices": indices,
        "intervals": intervals,
        "total": total,
    }


CSV_COLUMNS = [
    "instrument_id", "instrument", "level", "organisation", "department", "unit", "year",
    "index", "index_label", "value", "n",
]  # fmt: skip


def csv_table(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per instrument, level, org unit, year and index, with the value and respondents."""
    rows = []
    for report in view["instruments"]:
        labels = {i["key"]: i.get("label") for i in report["indices"]}
        for level, groups in (
            ("unit", report["units"]),
            ("department", report["departments"]),
            ("organisation", report["organisations"]),
        ):
            for group in groups:
                for point in group["years"]:
                    for index, value in point["values"].items():
                        rows.append(
                            [
                                report["instrument_id"],
                                report["name"],
                                level,
                                group["organisation"],
                                group.get("department"),
                                group.get("unit"),
                                point["year"],
                                index,
                                labels.get(index),
                                value["value"],
                                value["n"],
                            ]
                        )
    return CSV_COLUMNS, rows
