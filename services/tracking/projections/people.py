"""People's attributes, placements over time and career moves (the mobility facts)."""

from __future__ import annotations

from typing import Any

from services.tracking.projections.base import Handler, utc_text
from services.tracking.schema import EARLIEST
from services.tracking.versions import record, recorded_at, revise
from shared.events import Envelope
from shared.events import enrolment as e
from shared.events import people as p
from shared.sql import Cursor


def person_registered(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    values = {k: data[k] for k in ("person_id", "organisation", "department", "unit")}
    values["registered_at"] = utc_text(env.time)
    record(cur, "tr_people", values, recorded_at(env))
    _place(cur, env, data, EARLIEST, None)


def _place(
    cur: Cursor, env: Envelope, data: dict[str, Any], effective: str, move_id: str | None
) -> None:
    values = {
        "person_id": data["person_id"],
        "effective_date": effective,
        "position": env.position,
        "organisation": data["organisation"],
        "department": data["department"],
        "unit": data["unit"],
        "move_id": move_id,
    }
    record(cur, "tr_placements", values, recorded_at(env))


def attributes_recorded(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    change = {
        "role": data["role"],
        "profession": data["profession_category"],
        "education": data["education_level"],
    }
    revise(cur, "tr_people", (data["person_id"],), lambda _: change, recorded_at(env))


def placement_changed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    _place(cur, env, data, data["effective_date"], data.get("move_id"))


def move_recorded(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    values = {k: data[k] for k in ("move_id", "person_id", "kind", "organisation")}
    values.update({k: data.get(k) for k in ("department", "unit")})
    values.update(scope=data["scope"], start_date=data["start_date"])
    values.update({k: data.get(k) for k in ("planned_end_date", "end_date")})
    record(cur, "tr_moves", values, recorded_at(env))


def move_ended(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    change = {"end_date": data["end_date"]}
    revise(cur, "tr_moves", (data["move_id"],), lambda _: change, recorded_at(env))


def person_erased(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    revise(cur, "tr_people", (data["person_id"],), lambda _: {"erased": 1}, recorded_at(env))


HANDLERS: dict[str, Handler] = {
    e.PERSON_REGISTERED: person_registered,
    p.PERSON_ATTRIBUTES_RECORDED: attributes_recorded,
    p.PLACEMENT_CHANGED: placement_changed,
    p.CAREER_MOVE_RECORDED: move_recorded,
    p.CAREER_MOVE_ENDED: move_ended,
    p.PERSON_ERASED: person_erased,
}
