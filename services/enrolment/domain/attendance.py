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


def mark_problems(n: int, mark: Mark, session_minutes: int) -> list[tuple[str, str]]:
    """What is wrong with one mark on its own, as (field, message) pairs."""
    where = f"records.{n}"
    if mark.status not in STATUSES:
        return [(f"{where}.status", f"status must be one of {', '.join(STATUSES)}")]
    if mark.status == "partial":
        if mark.minutes is None or not 1 <= mark.minutes <= session_minutes:
            message = f"partial attendance needs minutes from 1 to the session's {session_minutes}"
            return [(f"{where}.minutes", message)]
    elif mark.minutes is not None:
        return [(f"{where}.minutes", "minutes are given for partial attendance only")]
    return []


def check_marks(
    marks: Sequence[Mark],
    reason: str | None,
    session_minutes: int,
    day: dt.date,
    enrolled_on_day: Callable[[UUID, dt.date], bool],
    current: Callable[[UUID], dict[str, Any] | None],
) -> Tally:
    """Checks every mark and counts what recording them would do.

    Every bad record is named in one refusal (``records.N.…``), so a long register is fixed
    in one pass; the refusal's class is that of the first problem.
    """
    if not marks:
        raise AttendanceInvalid("give at least one record", field="records")
    problems: list[tuple[type[RuleViolation], str, str]] = []
    first_at: dict[UUID, int] = {}
    recorded = corrected = unchanged = 0
    for n, mark in enumerate(marks):
        problems += [(AttendanceInvalid, f, m) for f, m in mark_problems(n, mark, session_minutes)]
        where = f"records.{n}.person_id"
        if mark.person_id in first_at:
            first = first_at[mark.person_id]
            message = f"person {mark.person_id} appears twice (first as records.{first})"
            problems.append((AttendanceInvalid, where, message))
            continue
        first_at[mark.person_id] = n
        if not enrolled_on_day(mark.person_id, day):
            message = f"person {mark.person_id} was not enrolled in the cohort on {day}"
            problems.append((NotEnrolledOnSessionDay, where, message))
            continue
        before = current(mark.person_id)
        if before is None:
            recorded += 1
        elif (before["status"], before["minutes"]) == (mark.status, mark.minutes):
            unchanged += 1
        else:
            corrected += 1
    if problems:
        kind, field, message = problems[0]
        if len(problems) > 1:  # each is in ``errors``; the detail stays short
            message = f"{len(problems)} problems in the records, the first {field}: {message}"
        errors = [{"location": "json", "field": f, "message": m} for _, f, m in problems]
        raise kind(message, field=field, errors=errors)
    if corrected and not reason:
        raise CorrectionNeedsReason(
            "a reason is required when a record corrects an earlier one", field="reason"
        )
    return Tally(recorded, corrected, unchanged)
