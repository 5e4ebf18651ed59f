"""What a pilot participant's timeline must hold, from the scenario's own data alone.

:func:`dated_entries` lists the entries that carry an effective date, in the order the
scenario loader records them, then stably sorted by that date: the order the timeline must
show them in (the pilot has no two of one person's dated entries on one day that the loader
records out of order). Entries dated by when they were recorded (registration, attributes,
peer groups) depend on the run, so :func:`undated_kinds` only counts them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

from services.scenario import assessment
from services.scenario import enrolment as scenario

PERMANENT = ("transfer", "new_post", "promotion")
"""Moves that change the person's placement from their start."""


class Expected(NamedTuple):
    on: str
    kind: str
    details: dict[str, Any]
    """The details the entry must include (it may hold more)."""


def _participation(key: str) -> list[Expected]:
    accepted = scenario.ACCEPTED_ON.isoformat()
    entries = [
        Expected(scenario.INVITED_ON.isoformat(), "invited", {}),
        Expected(accepted, "accepted", {}),
        # Enrolled on accepting: the enrolment takes effect at midnight UTC of that day.
        Expected(accepted, "enrolled", {"enrolled_at": f"{accepted}T00:00:00+00:00"}),
    ]
    withdrawn = Expected(
        scenario.WITHDRAWN_ON.isoformat(), "withdrawn", {"reason": scenario.WITHDRAWAL_REASON}
    )
    for index, session in enumerate(scenario.SESSIONS):
        after_withdrawal = session.starts_at.date() > scenario.WITHDRAWN_ON
        if key == scenario.WITHDRAWN and after_withdrawal and withdrawn not in entries:
            entries.append(withdrawn)
        attended = scenario.attendance(key, index)
        if attended is None:
            continue
        status, minutes = attended
        delivery = "in_person" if index < scenario.IN_PERSON_SESSIONS else "virtual"
        entries.append(
            Expected(
                session.starts_at.date().isoformat(),
                "attendance_recorded",
                {
                    "title": session.title,
                    "delivery": delivery,
                    "starts_at": session.starts_at.isoformat(),
                    "status": status,
                    "minutes": minutes,
                },
            )
        )
    if key != scenario.WITHDRAWN:
        entries.append(Expected(scenario.COMPLETED_ON.isoformat(), "completed", {}))
    return entries


def _careers(key: str) -> list[Expected]:
    entries = []
    person, department, unit, effective = scenario.PLACEMENT_CHANGE
    if person == key:
        entries.append(
            Expected(
                effective.isoformat(),
                "placement_changed",
                {"department": department, "unit": unit, "move_id": None},
            )
        )
    for move in scenario.MOVES:
        if move.key != key:
            continue
        planned = move.planned_end_date and move.planned_end_date.isoformat()
        recorded = {"kind": move.kind, "start_date": move.start_date.isoformat()}
        recorded |= {"planned_end_date": planned, "organisation": move.organisation}
        if move.scope is not None:
            recorded["scope"] = move.scope
        entries.append(Expected(move.start_date.isoformat(), "career_move_recorded", recorded))
        if move.kind in PERMANENT:
            placed = {"department": move.department, "unit": move.unit}
            entries.append(Expected(move.start_date.isoformat(), "placement_changed", placed))
        if move.end_date is not None:
            ended = {"kind": move.kind, "end_date": move.end_date.isoformat()}
            entries.append(Expected(move.end_date.isoformat(), "career_move_ended", ended))
    return entries


def _assessments(key: str) -> list[Expected]:
    entries = []
    for rating in assessment.behaviour_ratings():
        if rating.person != key:
            continue
        details: dict[str, Any] = {"wave": rating.wave, "rater_group": rating.rater_group}
        details["instrument"] = assessment.BEHAVIOUR["name"]
        if rating.rater_group == "self":
            details["scores"] = rating.scores
        entries.append(Expected(rating.administered_on.isoformat(), "result_recorded", details))
    profile = assessment.style_profiles()[key]
    entries.append(
        Expected(
            assessment.STYLE_DATE.isoformat(),
            "style_profile_recorded",
            {"instrument": assessment.STYLE["name"], "wave_label": "March 2020", **profile},
        )
    )
    return entries


def dated_entries(key: str) -> list[Expected]:
    """A participant's dated entries, in timeline order."""
    loaded_in_order = _participation(key) + _careers(key) + _assessments(key)
    return sorted(loaded_in_order, key=lambda e: e.on)


def undated_kinds(key: str) -> Counter[str]:
    """Entries dated when they were recorded: registration, attributes, peer groups."""
    kinds = Counter({"registered": 1, "attributes_recorded": 1})
    if any(key in members for members in scenario.PEER_GROUPS.values()):
        kinds["peer_group_joined"] += 1
    if key == scenario.WITHDRAWN:
        kinds["peer_group_left"] += 1
    return kinds
