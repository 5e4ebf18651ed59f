"""Programmes, cohorts and each person's way through a cohort (the funnel's facts)."""

from __future__ import annotations

from typing import Any

from services.tracking.projections.base import Handler
from shared.events import Envelope
from shared.events import enrolment as e
from shared.sql import Cursor


def programme_defined(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_programmes (programme_id, name, organisation) VALUES (?, ?, ?)"
        " ON CONFLICT (programme_id) DO NOTHING",
        (data["programme_id"], data["name"], data["organisation"]),
    )


def programme_retired(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tr_programmes SET retired_on = ? WHERE programme_id = ?",
        (data["on"], data["programme_id"]),
    )


def cohort_planned(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_cohorts (cohort_id, programme_id, name, capacity, start_date, end_date,"
        " funding_source, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'planned')"
        " ON CONFLICT (cohort_id) DO NOTHING",
        (
            data["cohort_id"],
            data["programme_id"],
            data["name"],
            data["capacity"],
            data["start_date"],
            data["end_date"],
            data.get("funding_source"),
        ),
    )


def cohort_status_changed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tr_cohorts SET status = ?, status_on = ? WHERE cohort_id = ?",
        (data["status"], data["on"], data["cohort_id"]),
    )


def cohort_coach_assigned(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    """Only the coach's reference: enough to recognise them, not to name them."""
    cur.execute(
        "INSERT INTO tr_cohort_coaches (cohort_id, coach_ref) VALUES (?, ?)"
        " ON CONFLICT (cohort_id, coach_ref) DO NOTHING",
        (data["cohort_id"], data["coach_ref"]),
    )


def _stage(column: str | None, status: str) -> Any:
    """A handler moving a person to ``status``, dating ``column`` with the effective date."""
    assignment = f", {column} = excluded.{column}" if column else ""
    columns = f", {column}" if column else ""
    values = ", ?" if column else ""
    sql = (
        f"INSERT INTO tr_participation (cohort_id, person_id, status{columns})"
        f" VALUES (?, ?, ?{values}) ON CONFLICT (cohort_id, person_id)"
        f" DO UPDATE SET status = excluded.status{assignment}"
    )

    def handler(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
        params = [data["cohort_id"], data["person_id"], status]
        if column:
            params.append(data["on"])
        cur.execute(sql, params)

    return handler


def participant_enrolled(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_participation (cohort_id, person_id, status, enrolled_at,"
        " enrolled_position) VALUES (?, ?, 'enrolled', ?, ?)"
        " ON CONFLICT (cohort_id, person_id) DO UPDATE SET status = excluded.status,"
        " enrolled_at = excluded.enrolled_at, enrolled_position = excluded.enrolled_position",
        (data["cohort_id"], data["person_id"], data["enrolled_at"], env.position),
    )


HANDLERS: dict[str, Handler] = {
    e.PROGRAMME_DEFINED: programme_defined,
    e.PROGRAMME_RETIRED: programme_retired,
    e.COHORT_PLANNED: cohort_planned,
    e.COHORT_STATUS_CHANGED: cohort_status_changed,
    e.COHORT_COACH_ASSIGNED: cohort_coach_assigned,
    e.PARTICIPANT_INVITED: _stage("invited_on", "invited"),
    e.INVITATION_ACCEPTED: _stage("accepted_on", "accepted"),
    e.INVITATION_DECLINED: _stage("declined_on", "declined"),
    e.PARTICIPANT_WAITLISTED: _stage("waitlisted_on", "waitlisted"),
    e.PARTICIPANT_ENROLLED: participant_enrolled,
    e.PARTICIPANT_WITHDRAWN: _stage("withdrawn_on", "withdrawn"),
    e.PARTICIPANT_LEFT_WAITLIST: _stage("left_waitlist_on", "left_waitlist"),
    e.PARTICIPANT_COMPLETED: _stage("completed_on", "completed"),
}
