"""How each integration event changes the read models: one small function per event type.

Handlers receive the event's data in its JSON form (ids and dates as strings), exactly as it
travels on every feed, so the rows are the same whichever feed delivered it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.events import Envelope
from shared.events import enrolment as e
from shared.sql import Cursor

Handler = Callable[[Cursor, Envelope, dict[str, Any]], None]


def person_registered(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_people (person_id, organisation, department, unit, registered_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (person_id) DO NOTHING",
        (
            data["person_id"],
            data["organisation"],
            data["department"],
            data["unit"],
            env.time.isoformat(),
        ),
    )


def programme_defined(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_programmes (programme_id, name, organisation) VALUES (?, ?, ?)"
        " ON CONFLICT (programme_id) DO NOTHING",
        (data["programme_id"], data["name"], data["organisation"]),
    )


def cohort_planned(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_cohorts (cohort_id, programme_id, name, capacity, start_date, end_date)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (cohort_id) DO NOTHING",
        (
            data["cohort_id"],
            data["programme_id"],
            data["name"],
            data["capacity"],
            data["start_date"],
            data["end_date"],
        ),
    )


def participant_enrolled(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_enrolments (cohort_id, person_id, enrolled_at, position)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (cohort_id, person_id) DO NOTHING",
        (data["cohort_id"], data["person_id"], data["enrolled_at"], env.position),
    )


HANDLERS: dict[str, Handler] = {
    e.PERSON_REGISTERED: person_registered,
    e.PROGRAMME_DEFINED: programme_defined,
    e.COHORT_PLANNED: cohort_planned,
    e.PARTICIPANT_ENROLLED: participant_enrolled,
}
