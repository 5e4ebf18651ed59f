"""Sessions, attendance and peer groups (the attendance and network facts)."""

from __future__ import annotations

from typing import Any

from services.tracking.projections.base import Handler
from services.tracking.versions import record, recorded_at, retire, revise
from shared.events import Envelope
from shared.events import sessions as s
from shared.sql import Cursor


def session_scheduled(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    values = {k: data[k] for k in ("session_id", "cohort_id", "title")}
    values.update(module=data.get("module"), starts_at=data["starts_at"])
    values.update(ends_at=data["ends_at"], delivery=data["delivery"])
    values.update(original_delivery=data["delivery"], status="scheduled")
    record(cur, "tr_sessions", values, recorded_at(env))


def session_rescheduled(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    def change(old: dict[str, Any]) -> dict[str, Any]:
        return {
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "reschedules": int(old["reschedules"]) + 1,
        }

    revise(cur, "tr_sessions", (data["session_id"],), change, recorded_at(env))


def delivery_changed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    def change(old: dict[str, Any]) -> dict[str, Any]:
        return {"delivery": data["delivery"], "delivery_changes": int(old["delivery_changes"]) + 1}

    revise(cur, "tr_sessions", (data["session_id"],), change, recorded_at(env))


def _status(status: str) -> Handler:
    def handler(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
        revise(cur, "tr_sessions", (data["session_id"],), lambda _: {"status": status},
               recorded_at(env))  # fmt: skip

    return handler


def attendance_recorded(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    corrected = 1 if env.type == s.ATTENDANCE_CORRECTED else 0
    key = (data["session_id"], data["person_id"])
    mark = {"status": data["status"], "minutes": data.get("minutes")}

    def change(old: dict[str, Any]) -> dict[str, Any]:
        return {**mark, "corrections": int(old["corrections"]) + corrected}

    first = {"session_id": key[0], "person_id": key[1], "cohort_id": data["cohort_id"], **mark}
    first["corrections"] = corrected
    revise(cur, "tr_attendance", key, change, recorded_at(env), otherwise=first)


def group_formed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    at = recorded_at(env)
    values = {k: data[k] for k in ("group_id", "cohort_id", "name")}
    record(cur, "tr_groups", values, at)
    for person_id in data["members"]:
        _add_member(cur, data["group_id"], data["cohort_id"], str(person_id), at)


def _add_member(cur: Cursor, group_id: str, cohort_id: str, person_id: str, at: str) -> None:
    values = {"group_id": group_id, "cohort_id": cohort_id, "person_id": person_id}
    record(cur, "tr_group_members", values, at)


def member_added(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    _add_member(cur, data["group_id"], data["cohort_id"], data["person_id"], recorded_at(env))


def member_removed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    key = (data["group_id"], data["person_id"])
    retire(cur, "tr_group_members", key, recorded_at(env))


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
