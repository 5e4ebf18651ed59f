"""Attendance marks and the rules each must pass before any of a session's marks is recorded.

A mark says one person was present, absent, excused or partly there (with minutes). It is
refused for anyone not enrolled on the session's day: not yet enrolled, or withdrawn before
it. So people who joined after a session are never counted absent from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from shared.errors import RuleViolation

STATUSES = ("present", "absent", "excused", "partial")


class AttendanceInvalid(RuleViolation):
    pass


class NotEnrolledOnSessionDay(RuleViolation):
    pass


class CorrectionNeedsReason(RuleViolation):
    pass


@dataclass(frozen=True)
class Mark:
    person_id: UUID
    status: str
    minutes: int | None = None


@dataclass(frozen=True)
class Tally:
    recorded: int
    corrected: int
    unchanged: int


def check_mark(n: int, mark: Mark, session_minutes: int) -> None:
    where = f"records.{n}"
    if mark.status not in STATUSES:
        raise AttendanceInvalid(
            f"status must be one of {', '.join(STATUSES)}", field=f"{where}.status"
        )
    if mark.status == "partial":
        if mark.minutes is None or not 1 <= mark.minutes <= session_minutes:
            raise AttendanceInvalid(
                f"partial attendance needs minutes from 1 to the session's {session_minutes}",
                field=f"{where}.minutes",
            )
    elif mark.minutes is not None:
        raise AttendanceInvalid(
            "minutes are given for partial attendance only", field=f"{where}.minutes"
        )


def check_marks(
    marks: Sequence[Mark],
    reason: str | None,
    session_minutes: int,
    day: dt.date,
    enrolled_on_day: Callable[[UUID, dt.date], bool],
    current: Callable[[UUID], dict[str, Any] | None],
) -> Tally:
    """Checks every mark (the first fault is named) and counts what recording them would do."""
    if not marks:
        raise AttendanceInvalid("give at least one record", field="records")
    seen: set[UUID] = set()
    recorded = corrected = unchanged = 0
    for n, mark in enumerate(marks):
        check_mark(n, mark, session_minutes)
        if mark.person_id in seen:
            raise AttendanceInvalid(
                f"person {mark.person_id} appears twice", field=f"records.{n}.person_id"
            )
        seen.add(mark.person_id)
        if not enrolled_on_day(mark.person_id, day):
            raise NotEnrolledOnSessionDay(
                f"person {mark.person_id} was not enrolled in the cohort on {day.isoformat()}",
                field=f"records.{n}.person_id",
            )
        before = current(mark.person_id)
        if before is None:
            recorded += 1
        elif (before["status"], before["minutes"]) == (mark.status, mark.minutes):
            unchanged += 1
        else:
            corrected += 1
    if corrected and not reason:
        raise CorrectionNeedsReason(
            "a reason is required when a record corrects an earlier one", field="reason"
        )
    return Tally(recorded, corrected, unchanged)
