"""The cohort funnel (invited to completed, with rates) and attendance, virtual against in person.

Funnel counts are people who ever reached a stage (``declined``, ``waitlisted`` and
``left_waitlist`` count who is there now). Attendance counts the held (not cancelled)
sessions: ``attended`` is present or partial, out of everyone with a record for the session,
which the enrolment service accepts only for people enrolled on the session's day.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.tracking.views.cohorts import cohort
from services.tracking.views.privacy import Policy, cell
from shared.sql import Cursor

STAGES = ("invited", "accepted", "declined", "waitlisted", "enrolled", "completed", "withdrawn")
RATES = {
    "acceptance": ("accepted", "invited"),
    "decline": ("declined", "invited"),
    "completion": ("completed", "enrolled"),
    "withdrawal": ("withdrawn", "enrolled"),
}
ATTENDED = ("present", "partial")


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
        name: cell(_ratio(stage_counts[part], stage_counts[whole]), total, minimum)
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
    cur.execute(
        "SELECT a.session_id, a.person_id, a.status FROM tr_attendance a"
        " JOIN tr_sessions s ON s.session_id = a.session_id"
        " WHERE a.cohort_id = ? AND s.status <> 'cancelled'",
        (cohort_id,),
    )
    records = cur.fetchall()
    by_session: dict[str, list[str]] = defaultdict(list)
    by_person: dict[str, list[str]] = defaultdict(list)
    for session_id, person_id, status in records:
        by_session[session_id].append(status)
        by_person[person_id].append(status)
    minimum = policy.minimum
    rows = []
    modes: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"sessions": 0, "expected": 0, "attended": 0, "people": set()}
    )
    people_in_session: dict[str, set[str]] = defaultdict(set)
    for session_id, person_id, _ in records:
        people_in_session[session_id].add(person_id)
    for (
        session_id,
        title,
        module,
        starts,
        ends,
        delivery,
        original,
        status,
        moved,
        changed,
    ) in sessions:
        statuses = by_session.get(session_id, [])
        expected, attended = len(statuses), sum(s in ATTENDED for s in statuses)
        counts = {s: statuses.count(s) for s in ("present", "partial", "absent", "excused")}
        held = status != "cancelled"
        rows.append(
            {
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
                "counts": {k: cell(v, expected, minimum) for k, v in counts.items()}
                if held
                else None,
                "rate": cell(_ratio(attended, expected), expected, minimum) if held else None,
            }
        )
        if held and expected:
            mode = modes[delivery]
            mode["sessions"] += 1
            mode["expected"] += expected
            mode["attended"] += attended
            mode["people"] |= people_in_session[session_id]
    by_delivery = {
        delivery: {
            "sessions": mode["sessions"],
            "person_sessions": cell(mode["expected"], len(mode["people"]), minimum),
            "rate": cell(_ratio(mode["attended"], mode["expected"]), len(mode["people"]), minimum),
        }
        for delivery, mode in sorted(modes.items())
    }
    everyone = {p for s in people_in_session.values() for p in s}
    all_expected = sum(m["expected"] for m in modes.values())
    all_attended = sum(m["attended"] for m in modes.values())
    result: dict[str, Any] = {
        "sessions": rows,
        "overall": cell(_ratio(all_attended, all_expected), len(everyone), minimum),
        "by_delivery": by_delivery,
        "virtual_minus_in_person": _difference(by_delivery),
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


def csv_table(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per session: the attendance table HR exports."""
    columns = [
        "session_id",
        "title",
        "starts_at",
        "delivery",
        "original_delivery",
        "status",
        "expected",
        "present",
        "partial",
        "absent",
        "excused",
        "rate",
    ]
    rows = []
    for s in view["attendance"]["sessions"]:
        counts = s["counts"] or {}
        rows.append(
            [
                s["session_id"],
                s["title"],
                s["starts_at"],
                s["delivery"],
                s["original_delivery"],
                s["status"],
                (s["expected"] or {}).get("value"),
                *[
                    (counts.get(k) or {}).get("value")
                    for k in ("present", "partial", "absent", "excused")
                ],
                (s["rate"] or {}).get("value"),
            ]
        )
    return columns, rows
