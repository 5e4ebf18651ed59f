"""The Kirkpatrick summary: reaction, learning, behaviour and results, per cohort or programme.

Each level gathers headline figures from the other views' summaries, so the numbers agree with
the detailed views and go through the same suppression:

1. Reaction: the mean answer of the anonymous reaction survey, and its response rate.
2. Learning: self-assessed growth, the mean improvement baseline to post over the dimensions
   of the self ratings (positive is better; reverse-scored dimensions are turned).
3. Behaviour: the same improvement as rated by others (each rater group, and their mean), and
   how widely the peer groups crossed unit and department lines.
4. Results: the participants' units' staff-survey change minus the organisation's (before the
   cohort to the first year after), and rotation within and retention in the state at 24
   months, against the comparison group.

A programme pools its cohorts: each person counts once per cohort, each from their cohort's end.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from services.tracking.views.growth import growth_summary
from services.tracking.views.ledger import Releases
from services.tracking.views.memo import Memo
from services.tracking.views.mobility import mobility_summary
from services.tracking.views.network import network_summary
from services.tracking.views.privacy import Policy
from services.tracking.views.reaction import reaction_summary
from services.tracking.views.staff_survey import staff_survey_summary
from shared.sql import Cursor

NOT_SHOWN = {"value": None, "n": None, "suppressed": False}


def figure(key: str, label: str, unit: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "label": label, "unit": unit, **value}


def _mean_of(cells: list[dict[str, Any]], reason: str) -> dict[str, Any]:
    """The mean of the cells shown, with the smallest n behind them; suppressed if none is."""
    shown = [c for c in cells if c.get("value") is not None]
    if not shown:
        suppressed = any(c.get("suppressed") for c in cells)
        reasons = [c["reason"] for c in cells if c.get("reason")]
        return {**NOT_SHOWN, "suppressed": suppressed, "reason": reasons[0] if reasons else reason}
    return {
        "value": round(statistics.fmean(float(c["value"]) for c in shown), 4),
        "n": min(int(c["n"]) for c in shown),
        "suppressed": False,
        "reason": None,
    }


def _rater_groups(growth: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Improvement cells per rater group, over the instruments that have ratings."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for instrument in growth["instruments"]:
        for group, value in (instrument.get("summary") or {}).items():
            groups.setdefault(group, []).append(value)
    return groups


def levels(
    cur: Cursor,
    cohort_ids: list[str],
    policy: Policy,
    view_day: dt.date,
    releases: Releases | None = None,
    memo: Memo | None = None,
) -> list[dict[str, Any]]:
    """The four levels' figures; ``releases`` checks growth and mobility against the ledger;
    ``memo`` keeps organisation-wide parts between requests (:mod:`.memo`)."""
    releases = releases or Releases()
    reaction = reaction_summary(cur, cohort_ids, policy, view_day, releases, memo)
    growth = _rater_groups(growth_summary(cur, cohort_ids, policy, releases, memo))
    network = network_summary(cur, cohort_ids, policy, memo)
    staff = staff_survey_summary(cur, cohort_ids, policy, memo)
    mobility = mobility_summary(cur, cohort_ids, policy, view_day, releases, memo)
    no_ratings = "no baseline and post ratings"
    others = {group: cells for group, cells in growth.items() if group != "self"}
    behaviour = [
        figure(
            f"change_{group}",
            f"Behaviour change as rated by {group.replace('_', ' ')} raters",
            "scale points",
            _mean_of(cells, no_ratings),
        )
        for group, cells in sorted(others.items())
    ]
    rotation, retention = mobility["rotation_24_months"], mobility["retention_24_months"]
    return [
        {
            "level": 1,
            "name": "Reaction",
            "figures": [
                figure(
                    "mean_answer",
                    "Mean answer of the reaction survey",
                    "scale points",
                    reaction["mean"],
                ),
                figure(
                    "response_rate",
                    "Response rate of the reaction survey",
                    "share",
                    reaction["response_rate"],
                ),
            ],
        },
        {
            "level": 2,
            "name": "Learning",
            "figures": [
                figure(
                    "self_assessed_change",
                    "Self-assessed growth, baseline to post (mean over dimensions)",
                    "scale points",
                    _mean_of(growth.get("self", []), no_ratings),
                )
            ],
        },
        {
            "level": 3,
            "name": "Behaviour",
            "figures": [
                figure(
                    "multi_rater_change",
                    "Behaviour change as rated by others (mean over rater groups)",
                    "scale points",
                    _mean_of([c for cells in others.values() for c in cells], no_ratings),
                ),
                *behaviour,
                figure(
                    "cross_unit_ties",
                    "Share of peer-group ties across units",
                    "share",
                    network["cross_unit_share"],
                ),
                figure(
                    "departments_per_group",
                    "Departments per peer group",
                    "departments",
                    network["mean_departments"],
                ),
            ],
        },
        {
            "level": 4,
            "name": "Results",
            "figures": [
                figure(
                    "staff_survey_vs_organisation",
                    "Staff-survey change of the participants' units minus the organisation's",
                    "index points",
                    staff["total"],
                ),
                figure(
                    "rotation_24m",
                    "Rotated within 24 months of the cohort's end",
                    "share",
                    rotation["participants"],
                ),
                figure(
                    "rotation_24m_comparison",
                    "Rotated within 24 months: comparison group",
                    "share",
                    rotation["comparison"],
                ),
                figure(
                    "rotation_24m_difference",
                    "Rotation within 24 months: participants minus comparison",
                    "share",
                    rotation["difference"],
                ),
                figure(
                    "retention_24m",
                    "Still in the state 24 months after the cohort's end",
                    "share",
                    retention["participants"],
                ),
                figure(
                    "retention_24m_comparison",
                    "Still in the state at 24 months: comparison group",
                    "share",
                    retention["comparison"],
                ),
                figure(
                    "retention_24m_difference",
                    "Retention at 24 months: participants minus comparison",
                    "share",
                    retention["difference"],
                ),
            ],
        },
    ]


def csv_table(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per figure."""
    columns = ["level", "level_name", "key", "label", "unit", "value", "n", "suppressed", "reason"]
    rows = [
        [
            level["level"],
            level["name"],
            f["key"],
            f["label"],
            f["unit"],
            f["value"],
            f["n"],
            f["suppressed"],
            f["reason"],
        ]
        for level in view["levels"]
        for f in level["figures"]
    ]
    return columns, rows
