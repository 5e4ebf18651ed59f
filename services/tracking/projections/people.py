"""People's attributes, placements over time and career moves (the mobility facts)."""

from __future__ import annotations

from typing import Any

from services.tracking.projections.base import Handler, utc_text
from services.tracking.schema import EARLIEST
from shared.events import Envelope
from shared.events import enrolment as e
from shared.events import people as p
from shared.sql import Cursor


def person_registered(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_people (person_id, organisation, department, unit, registered_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (person_id) DO NOTHING",
        (
            data["person_id"],
            data["organisation"],
            data["department"],
            data["unit"],
            utc_text(env.time),
        ),
    )
    _place(cur, env, data, EARLIEST, None)


def _place(
    cur: Cursor, env: Envelope, data: dict[str, Any], effective: str, move_id: str | None
) -> None:
    cur.execute(
        "INSERT INTO tr_placements (person_id, effective_date, position, organisation,"
        " department, unit, move_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (person_id, effective_date, position) DO NOTHING",
        (
            data["person_id"],
            effective,
            env.position,
            data["organisation"],
            data["department"],
            data["unit"],
            move_id,
        ),
    )


def attributes_recorded(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tr_people SET role = ?, profession = ?, education = ? WHERE person_id = ?",
        (data["role"], data["profession_category"], data["education_level"], data["person_id"]),
    )


def placement_changed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    _place(cur, env, data, data["effective_date"], data.get("move_id"))


def move_recorded(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_moves (move_id, person_id, kind, organisation, department, unit, scope,"
        " start_date, planned_end_date, end_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (move_id) DO NOTHING",
        (
            data["move_id"],
            data["person_id"],
            data["kind"],
            data["organisation"],
            data.get("department"),
            data.get("unit"),
            data["scope"],
            data["start_date"],
            data.get("planned_end_date"),
            data.get("end_date"),
        ),
    )


def move_ended(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tr_moves SET end_date = ? WHERE move_id = ?", (data["end_date"], data["move_id"])
    )


def person_erased(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute("UPDATE tr_people SET erased = 1 WHERE person_id = ?", (data["person_id"],))


HANDLERS: dict[str, Handler] = {
    e.PERSON_REGISTERED: person_registered,
    p.PERSON_ATTRIBUTES_RECORDED: attributes_recorded,
    p.PLACEMENT_CHANGED: placement_changed,
    p.CAREER_MOVE_RECORDED: move_recorded,
    p.CAREER_MOVE_ENDED: move_ended,
    p.PERSON_ERASED: person_erased,
}
