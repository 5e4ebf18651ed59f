"""The network a cohort builds: how many departments and units each peer group spans.

A peer group's members are its current members (someone removed, for example at withdrawal,
no longer counts). Where each member sits is their placement on the cohort's start date. A
unit is a (department, unit) pair, since unit names may repeat across departments. A
cross-unit tie is a pair of members placed in different units, out of all pairs in the group;
a member whose unit is unknown ties with no one across units.

A group with fewer members than the minimum shows suppressed cells and is left out of the
cohort totals, so that its figures cannot be recovered from the totals by subtraction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from itertools import combinations
from typing import Any

from services.tracking.views import memo as memos
from services.tracking.views.cohorts import cohort, participants, placements_on
from services.tracking.views.memo import Memo
from services.tracking.views.privacy import Policy, cell
from shared.sql import Cursor


@dataclass(frozen=True)
class GroupSpan:
    group_id: str
    cohort_id: str
    name: str
    members: tuple[str, ...]
    departments: int
    units: int
    cross_unit_ties: int
    pairs: int


def spans(cur: Cursor, cohort_ids: list[str]) -> list[GroupSpan]:
    """Every peer group of the cohorts with its spans (unknown cohorts raise 404)."""
    result = []
    for cohort_id in cohort_ids:
        facts = cohort(cur, cohort_id)
        cur.execute(
            "SELECT g.group_id, g.name, m.person_id FROM tr_groups g"
            " LEFT JOIN tr_group_members m ON m.group_id = g.group_id"
            " WHERE g.cohort_id = ? ORDER BY g.name, g.group_id, m.person_id",
            (cohort_id,),
        )
        names: dict[str, str] = {}
        members: dict[str, list[str]] = defaultdict(list)
        for group_id, name, person_id in cur.fetchall():
            names[group_id] = name
            if person_id is not None:
                members[group_id].append(person_id)
        placed = placements_on(cur, facts.start_date, [p for m in members.values() for p in m])
        for group_id, name in names.items():
            people = members[group_id]
            where = {p: placed[p] for p in people if p in placed}
            unit = {p: (w.department, w.unit) for p, w in where.items() if w.unit is not None}
            pairs = list(combinations(people, 2))
            ties = sum(a in unit and b in unit and unit[a] != unit[b] for a, b in pairs)
            result.append(
                GroupSpan(
                    group_id=group_id,
                    cohort_id=cohort_id,
                    name=name,
                    members=tuple(people),
                    departments=len({w.department for w in where.values() if w.department}),
                    units=len(set(unit.values())),
                    cross_unit_ties=ties,
                    pairs=len(pairs),
                )
            )
    return result


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _group(span: GroupSpan, minimum: int) -> dict[str, Any]:
    n = len(span.members)
    return {
        "group_id": span.group_id,
        "name": span.name,
        "members": cell(n, n, minimum),
        "departments": cell(span.departments, n, minimum),
        "units": cell(span.units, n, minimum),
        "cross_unit_ties": cell(span.cross_unit_ties, n, minimum),
        "pairs": cell(span.pairs, n, minimum),
        "cross_unit_share": cell(_ratio(span.cross_unit_ties, span.pairs), n, minimum),
    }


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _totals(all_spans: list[GroupSpan], minimum: int) -> dict[str, Any]:
    shown = [s for s in all_spans if len(s.members) >= minimum]
    members = sum(len(s.members) for s in shown)
    return {
        "groups": len(all_spans),
        "groups_counted": len(shown),
        "members": cell(members, members, minimum),
        "mean_departments": cell(_mean([s.departments for s in shown]), members, minimum),
        "mean_units": cell(_mean([s.units for s in shown]), members, minimum),
        "cross_unit_share": cell(
            _ratio(sum(s.cross_unit_ties for s in shown), sum(s.pairs for s in shown)),
            members,
            minimum,
        ),
    }


def network(cur: Cursor, cohort_id: str, policy: Policy, individual: bool) -> dict[str, Any]:
    """Per peer group and for the cohort; ``individual`` adds each participant's group."""
    facts = cohort(cur, cohort_id)
    minimum = policy.minimum
    all_spans = spans(cur, [cohort_id])
    view: dict[str, Any] = {
        **facts.header(),
        "placed_on": facts.start_date,
        "groups": [_group(s, minimum) for s in all_spans],
        "totals": _totals(all_spans, minimum),
    }
    if individual:
        group_of = {p: s for s in all_spans for p in s.members}
        view["participants"] = [
            _participant(p, group_of.get(p), minimum) for p in participants(cur, cohort_id)
        ]
    return view


def _participant(person_id: str, span: GroupSpan | None, minimum: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "person_id": person_id,
        "group_id": None,
        "group_name": None,
        "departments": None,
        "units": None,
        "reason": "in no peer group",
    }
    if span is None:
        return row
    row.update(group_id=span.group_id, group_name=span.name)
    if len(span.members) < minimum:
        row["reason"] = f"the group has fewer than {minimum} members ({minimum} is the minimum)"
        return row
    row.update(departments=span.departments, units=span.units, reason=None)
    return row


def network_summary(
    cur: Cursor, cohort_ids: list[str], policy: Policy, memo: Memo | None = None
) -> dict[str, Any]:
    """Kirkpatrick L3: cross-unit tie share and mean departments spanned, over the cohorts;
    several cohorts' spans are kept in ``memo`` while the facts hold (:mod:`.memo`)."""
    found = memos.get(
        memo if len(cohort_ids) > 1 else None,
        cur,
        ("spans", tuple(cohort_ids)),
        partial(spans, cur, cohort_ids),
        ("tr_cohorts", "tr_groups", "tr_group_members", "tr_placements"),
    )
    return _totals(found, policy.minimum)


CSV_COLUMNS = [
    "group_id",
    "name",
    "members",
    "departments",
    "units",
    "cross_unit_ties",
    "pairs",
    "cross_unit_share",
]


def csv_table(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per peer group; suppressed figures are empty."""
    rows = [
        [g["group_id"], g["name"], *(g[c]["value"] for c in CSV_COLUMNS[2:])]
        for g in view["groups"]
    ]
    return CSV_COLUMNS, rows
