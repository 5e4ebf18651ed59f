"""Sessions, attendance and peer groups (the attendance and network facts)."""

from __future__ import annotations

from typing import Any

from services.tracking.projections.base import Handler
from shared.events import Envelope
from shared.events import sessions as s
from shared.sql import Cursor


def session_scheduled(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_sessions (session_id, cohort_id, title, module, starts_at, ends_at,"
        " delivery, original_delivery, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'scheduled')"
        " ON CONFLICT (session_id) DO NOTHING",
        (
            data["session_id"],
            data["cohort_id"],
            data["title"],
            data.get("module"),
            data["starts_at"],
            data["ends_at"],
            data["delivery"],
            data["delivery"],
        ),
    )


def session_rescheduled(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tr_sessions SET starts_at = ?, ends_at = ?, reschedules = reschedules + 1"
        " WHERE session_id = ?",
        (data["starts_at"], data["ends_at"], data["session_id"]),
    )


def delivery_changed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tr_sessions SET delivery = ?, delivery_changes = delivery_changes + 1"
        " WHERE session_id = ?",
        (data["delivery"], data["session_id"]),
    )


def _status(status: str) -> Handler:
    def handler(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
        cur.execute(
            "UPDATE tr_sessions SET status = ? WHERE session_id = ?", (status, data["session_id"])
        )

    return handler


def attendance_recorded(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    corrected = 1 if env.type == s.ATTENDANCE_CORRECTED else 0
    cur.execute(
        "INSERT INTO tr_attendance (session_id, person_id, cohort_id, status, minutes,"
        " corrections) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, person_id)"
        " DO UPDATE SET status = excluded.status, minutes = excluded.minutes,"
        " corrections = tr_attendance.corrections + excluded.corrections",
        (
            data["session_id"],
            data["person_id"],
            data["cohort_id"],
            data["status"],
            data.get("minutes"),
            corrected,
        ),
    )


def group_formed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_groups (group_id, cohort_id, name) VALUES (?, ?, ?)"
        " ON CONFLICT (group_id) DO NOTHING",
        (data["group_id"], data["cohort_id"], data["name"]),
    )
    for person_id in data["members"]:
        _add_member(cur, data["group_id"], data["cohort_id"], str(person_id))


def _add_member(cur: Cursor, group_id: str, cohort_id: str, person_id: str) -> None:
    cur.execute(
        "INSERT INTO tr_group_members (group_id, cohort_id, person_id) VALUES (?, ?, ?)"
        " ON CONFLICT (group_id, person_id) DO NOTHING",
        (group_id, cohort_id, person_id),
    )


def member_added(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    _add_member(cur, data["group_id"], data["cohort_id"], data["person_id"])


def member_removed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "DELETE FROM tr_group_members WHERE group_id = ? AND person_id = ?",
        (data["group_id"], data["person_id"]),
    )


HANDLERS: dict[str, Handler] = {
    s.SESSION_SCHEDULED: session_scheduled,
    s.SESSION_RESCHEDULED: session_rescheduled,
    s.SESSION_DELIVERY_CHANGED: delivery_changed,
    s.SESSION_HELD: _status("held"),
    s.SESSION_CANCELLED: _status("cancelled"),
    s.ATTENDANCE_RECORDED: attendance_recorded,
    s.ATTENDANCE_CORRECTED: attendance_recorded,
    s.PEER_GROUP_FORMED: group_formed,
    s.PEER_GROUP_MEMBER_ADDED: member_added,
    s.PEER_GROUP_MEMBER_REMOVED: member_removed,
}
