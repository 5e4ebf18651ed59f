"""Programmes, cohorts and each person's way through a cohort (the funnel's facts)."""

from __future__ import annotations

from typing import Any

from services.tracking.projections.base import Handler
from services.tracking.versions import record, recorded_at, revise
from shared.events import Envelope
from shared.events import enrolment as e
from shared.sql import Cursor


def programme_defined(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    values = {k: data[k] for k in ("programme_id", "name", "organisation")}
    record(cur, "tr_programmes", values, recorded_at(env))


def programme_retired(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    revise(
        cur,
        "tr_programmes",
        (data["programme_id"],),
        lambda _: {"retired_on": data["on"]},
        recorded_at(env),
    )


def cohort_planned(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    values = {k: data[k] for k in ("cohort_id", "programme_id", "name", "capacity")}
    values.update(
        start_date=data["start_date"],
        end_date=data["end_date"],
        funding_source=data.get("funding_source"),
        status="planned",
    )
    record(cur, "tr_cohorts", values, recorded_at(env))


def cohort_status_changed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    change = {"status": data["status"], "status_on": data["on"]}
    revise(cur, "tr_cohorts", (data["cohort_id"],), lambda _: change, recorded_at(env))


def cohort_coach_assigned(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    """Only the coach's reference: enough to recognise them, not to name them."""
    values = {"cohort_id": data["cohort_id"], "coach_ref": data["coach_ref"]}
    record(cur, "tr_cohort_coaches", values, recorded_at(env))


def _stage(column: str | None, status: str) -> Handler:
    """A handler moving a person to ``status``, dating ``column`` with the effective date."""

    def handler(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
        change: dict[str, Any] = {"status": status}
        if column:
            change[column] = data["on"]
        _participate(cur, env, data, change)

    return handler


def _participate(cur: Cursor, env: Envelope, data: dict[str, Any], change: dict[str, Any]) -> None:
    key = (data["cohort_id"], data["person_id"])
    first = {"cohort_id": key[0], "person_id": key[1], **change}
    revise(cur, "tr_participation", key, lambda _: change, recorded_at(env), otherwise=first)


def participant_enrolled(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    change = {
        "status": "enrolled",
        "enrolled_at": data["enrolled_at"],
        "enrolled_position": env.position,
    }
    _participate(cur, env, data, change)


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
