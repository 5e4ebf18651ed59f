"""The cohort funnel (invited to completed, with rates) and attendance, virtual against in person.

Funnel counts are people who ever reached a stage (``declined``, ``waitlisted`` and
``left_waitlist`` count who is there now). Attendance counts the held (not cancelled)
sessions: ``attended`` is present or partial, out of everyone with a record for the session,
which the enrolment service accepts only for people enrolled on the session's day. A session
with records for fewer people than the minimum shows suppressed cells and is left out of the
totals per delivery mode and overall, so that they cannot give its figures away.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.tracking.views.attendance_interval import mode_interval
from services.tracking.views.cohorts import cohort
from services.tracking.views.privacy import Policy, cell, figure
from shared.sql import Cursor

STAGES = ("invited", "accepted", "declined", "waitlisted", "enrolled", "completed", "withdrawn")
RATES = {
    "acceptance": ("accepted", "invited"),
    "decline": ("declined", "invited"),
    "completion": ("completed", "enrolled"),
    "withdrawal": ("withdrawn", "enrolled"),
}
ATTENDED = ("present", "partial")
COUNTED = ("present", "partial", "absent", "excused")
NO_RECORDS = "no attendance recorded"


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def funnel(cur: Cursor, cohort_id: str, policy: Policy, individual: bool) -> dict[str, Any]:
    """The funnel and attendance of one cohort; ``individual`` adds each participant's rate."""
    facts = cohort(cur, cohort_id)
    cur.execute(
        "SELECT COUNT(*), COUNT(invited_on), COUNT(accepted_on),"
        " SUM(CASE WHEN status = 'declined' THEN 1 ELSE 0 END),"
        " COUNT(waitlisted_on), COUNT(enrolled_at),"
        " SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN status = 'withdrawn' THEN 1 ELSE 0 END)"
        " FROM tr_participation WHERE cohort_id = ?",
        (cohort_id,),
    )
    total, *counts = (int(v or 0) for v in cur.fetchone())
    stage_counts = dict(zip(STAGES, counts, strict=True))
    minimum = policy.minimum
    stages = {stage: cell(n, total, minimum) for stage, n in stage_counts.items()}
    rates = {
        name: figure(
            _ratio(stage_counts[part], stage_counts[whole]), total, minimum, f"no one {whole}"
        )
        for name, (part, whole) in RATES.items()
    }
    return {
        **facts.header(),
        "capacity": facts.capacity,
        "people": cell(total, total, minimum),
        "stages": stages,
        "rates": rates,
        "attendance": attendance(cur, cohort_id, policy, individual),
    }


def attendance(cur: Cursor, cohort_id: str, policy: Policy, individual: bool) -> dict[str, Any]:
    cur.execute(
        "SELECT session_id, title, module, starts_at, ends_at, delivery, original_delivery,"
        " status, reschedules, delivery_changes FROM tr_sessions WHERE cohort_id = ?"
        " ORDER BY starts_at, session_id",
        (cohort_id,),
    )
    sessions = cur.fetchall()
    # A session's attendance is of its own cohort; saying so lets both tables be searched by
    # cohort, where a planner would otherwise read every session of the state to join them.
    cur.execute(
        "SELECT a.session_id, a.person_id, a.status FROM tr_attendance a"
        " JOIN tr_sessions s ON s.session_id = a.session_id AND s.cohort_id = a.cohort_id"
        " WHERE a.cohort_id = ? AND s.status <> 'cancelled'",
        (cohort_id,),
    )
    records = cur.fetchall()
    by_session: dict[str, dict[str, str]] = defaultdict(dict)
    by_person: dict[str, list[str]] = defaultdict(list)
    for session_id, person_id, status in records:
        by_session[session_id][person_id] = status
        by_person[person_id].append(status)
    minimum = policy.minimum
    rows = [_session(row, by_session.get(row[0], {}), minimum) for row in sessions]
    # A session too small to show is left out of every total: the totals minus the sessions
    # shown would otherwise give its figures.
    counted = [
        (row[5], by_session[row[0]]) for row in sessions if len(by_session[row[0]]) >= minimum
    ]
    by_delivery = {
        mode: _mode([taken for delivery, taken in counted if delivery == mode], minimum)
        for mode in sorted({delivery for delivery, _ in counted})
    }
    everyone = {p for _, taken in counted for p in taken}
    every_status = [s for _, taken in counted for s in taken.values()]
    result: dict[str, Any] = {
        "sessions": rows,
        "overall": _rate(every_status, len(everyone), minimum),
        "by_delivery": by_delivery,
        "virtual_minus_in_person": _difference(by_delivery),
        **mode_interval(by_delivery, counted),
    }
    if individual:
        result["participants"] = [
            {
                "person_id": person_id,
                "sessions": len(statuses),
                "attended": sum(s in ATTENDED for s in statuses),
                "rate": _ratio(sum(s in ATTENDED for s in statuses), len(statuses)),
            }
            for person_id, statuses in sorted(by_person.items())
        ]
    return result


def _rate(statuses: list[str], people: int, minimum: int) -> dict[str, Any]:
    attended = sum(s in ATTENDED for s in statuses)
    return figure(_ratio(attended, len(statuses)), people, minimum, NO_RECORDS)


def _session(row: tuple[Any, ...], taken: dict[str, str], minimum: int) -> dict[str, Any]:
    session_id, title, module, starts, ends, delivery, original, status, moved, changed = row
    statuses = list(taken.values())
    expected, held = len(statuses), status != "cancelled"
    counts = {s: statuses.count(s) for s in COUNTED}
    return {
        "session_id": session_id,
        "title": title,
        "module": module,
        "starts_at": starts,
        "ends_at": ends,
        "delivery": delivery,
        "original_delivery": original,
        "status": status,
        "reschedules": int(moved),
        "delivery_changes": int(changed),
        "expected": cell(expected, expected, minimum) if held else None,
        "counts": {k: cell(v, expected, minimum) for k, v in counts.items()} if held else None,
        "rate": _rate(statuses, expected, minimum) if held else None,
    }


def _mode(sessions: list[dict[str, str]], minimum: int) -> dict[str, Any]:
    """The sessions of one delivery mode: how many, person-sessions and the attendance rate."""
    people = len({p for taken in sessions for p in taken})
    statuses = [s for taken in sessions for s in taken.values()]
    return {
        "sessions": len(sessions),
        "person_sessions": cell(len(statuses), people, minimum),
        "rate": _rate(statuses, people, minimum),
    }


def _difference(by_delivery: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Virtual minus in-person attendance rate, when both cells are shown."""
    virtual, in_person = by_delivery.get("virtual"), by_delivery.get("in_person")
    if not virtual or not in_person:
        return {"value": None, "n": None, "suppressed": False, "reason": "needs both modes"}
    a, b = virtual["rate"], in_person["rate"]
    if a["suppressed"] or b["suppressed"]:
        return {"value": None, "n": None, "suppressed": True, "reason": a["reason"] or b["reason"]}
    return {
        "value": round(a["value"] - b["value"], 4),
        "n": min(a["n"], b["n"]),
        "suppressed": False,
        "reason": None,
    }


CSV_COLUMNS = [
    "session_id", "title", "starts_at", "delivery", "original_delivery", "status", "expected",
    "present", "partial", "absent", "excused", "rate",
]  # fmt: skip


def csv_table(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per session: the attendance table HR exports."""
    rows = []
    for s in view["attendance"]["sessions"]:
        counts = s["counts"] or {}
        figures = {"expected": s["expected"], "rate": s["rate"]}
        figures |= {status: counts.get(status) for status in COUNTED}
        rows.append(
            [(figures[c] or {}).get("value") if c in figures else s[c] for c in CSV_COLUMNS]
        )
    return CSV_COLUMNS, rows
