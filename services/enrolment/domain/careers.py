"""Careers: where a person is placed over time, and the moves they make.

A *placement* is an organisation, department and unit from an effective date. A *career move* is
a job rotation, transfer, new post, promotion, secondment or leaving the state, with where it goes
and its *scope* relative to the person's placement when it starts. The rules here are pure
functions over values; :class:`~services.enrolment.domain.people.Person` applies them, so that all
of one person's moves are one consistency boundary (no overlapping rotations).

Rotations and secondments are temporary: the person keeps their home placement and the move has
a (planned) end. Transfers, new posts and promotions are permanent: the person's placement
changes from the move's start date. Leaving the state ends nothing and places nowhere: the last
placement in the state stays the last one known.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from uuid import UUID

from shared.errors import ConflictError, NotFoundError, RuleViolation


class MoveKind(StrEnum):
    JOB_ROTATION = "job_rotation"
    TRANSFER = "transfer"
    NEW_POST = "new_post"
    PROMOTION = "promotion"
    SECONDMENT = "secondment"
    LEFT_STATE = "left_state"


TEMPORARY = frozenset({MoveKind.JOB_ROTATION, MoveKind.SECONDMENT})
PERMANENT = frozenset({MoveKind.TRANSFER, MoveKind.NEW_POST, MoveKind.PROMOTION})


class Scope(StrEnum):
    SAME_UNIT = "same_unit"
    OTHER_UNIT = "other_unit"
    OTHER_DEPARTMENT = "other_department"
    GROUP_AGENCY = "group_agency"
    """An agency in the same ministry group (the TEM group)."""
    OTHER_STATE_ORGANISATION = "other_state_organisation"
    OUTSIDE_STATE = "outside_state"


ELSEWHERE = frozenset({Scope.GROUP_AGENCY, Scope.OTHER_STATE_ORGANISATION, Scope.OUTSIDE_STATE})


class ScopeRequired(RuleViolation):
    pass


class ScopeContradicted(RuleViolation):
    pass


class MoveDatesInvalid(RuleViolation):
    pass


class MoveNotEndable(RuleViolation):
    pass


class RotationsOverlap(ConflictError):
    pass


class MoveAlreadyEnded(ConflictError):
    pass


class MoveNotFound(NotFoundError):
    pass


@dataclass(frozen=True)
class Placement:
    organisation: str
    department: str | None
    unit: str | None
    effective_date: dt.date | None
    """None for the placement recorded at registration: in force before any dated change."""
    move_id: UUID | None = None
    """The permanent career move that caused it, if one did."""


@dataclass(frozen=True)
class CareerMove:
    id: UUID
    kind: MoveKind
    organisation: str
    department: str | None
    unit: str | None
    scope: Scope
    scope_derived: bool
    start_date: dt.date
    planned_end_date: dt.date | None
    end_date: dt.date | None

    @property
    def last_day(self) -> dt.date | None:
        """The last day it lasts (or is planned to), None if open-ended."""
        return self.end_date or self.planned_end_date

    def overlaps(self, other: CareerMove) -> bool:
        """Inclusive of both ends: a rotation may start the day after another ends."""
        mine, theirs = self.last_day or dt.date.max, other.last_day or dt.date.max
        return self.start_date <= theirs and other.start_date <= mine

    def ended(self, end_date: dt.date) -> CareerMove:
        return replace(self, end_date=end_date)


def _same(a: str | None, b: str | None) -> bool | None:
    """Whether two names are the same place; None when either is unknown."""
    if a is None or b is None:
        return None
    return a.strip().casefold() == b.strip().casefold()


def possible_scopes(
    kind: MoveKind, home: Placement, organisation: str, department: str | None, unit: str | None
) -> frozenset[Scope]:
    """Every scope consistent with where the move goes and where the person was placed."""
    if kind is MoveKind.LEFT_STATE:
        return frozenset({Scope.OUTSIDE_STATE})
    if not _same(home.organisation, organisation):
        return ELSEWHERE
    same_department = _same(home.department, department)
    if same_department is None:
        return frozenset({Scope.SAME_UNIT, Scope.OTHER_UNIT, Scope.OTHER_DEPARTMENT})
    if not same_department:
        return frozenset({Scope.OTHER_DEPARTMENT})
    same_unit = _same(home.unit, unit)
    if same_unit is None:
        return frozenset({Scope.SAME_UNIT, Scope.OTHER_UNIT})
    return frozenset({Scope.SAME_UNIT if same_unit else Scope.OTHER_UNIT})


def decide_scope(
    kind: MoveKind,
    home: Placement,
    organisation: str,
    department: str | None,
    unit: str | None,
    given: Scope | None,
) -> tuple[Scope, bool]:
    """The move's scope and whether it was derived: derived where only one fits, else given.

    A given scope must fit the data; one that contradicts it is refused rather than stored.
    """
    possible = possible_scopes(kind, home, organisation, department, unit)
    if given is not None:
        if given not in possible:
            raise ScopeContradicted(
                f"scope {given.value} contradicts the move: from the person's placement "
                f"({home.organisation} / {home.department} / {home.unit}) it can only be "
                f"{' or '.join(sorted(s.value for s in possible))}",
                field="scope",
            )
        return given, len(possible) == 1
    if len(possible) == 1:
        return next(iter(possible)), True
    raise ScopeRequired(
        "scope is required: it cannot be derived from the person's placement; one of "
        + ", ".join(sorted(s.value for s in possible)),
        field="scope",
    )


def check_dates(
    kind: MoveKind,
    start_date: dt.date,
    planned_end_date: dt.date | None,
    end_date: dt.date | None,
) -> None:
    if kind is MoveKind.JOB_ROTATION and planned_end_date is None:
        raise MoveDatesInvalid(
            "a job rotation needs a planned_end_date: rotations are fixed-term",
            field="planned_end_date",
        )
    if kind not in TEMPORARY:
        for name, value in (("planned_end_date", planned_end_date), ("end_date", end_date)):
            if value is not None:
                raise MoveDatesInvalid(
                    f"a {kind.value} has no {name}: only job rotations and secondments end",
                    field=name,
                )
    for name, value in (("planned_end_date", planned_end_date), ("end_date", end_date)):
        if value is not None and value < start_date:
            raise MoveDatesInvalid(f"{name} {value} is before start_date {start_date}", field=name)


def check_no_overlap(move: CareerMove, others: list[CareerMove]) -> None:
    """One person is on at most one job rotation at a time."""
    if move.kind is not MoveKind.JOB_ROTATION:
        return
    for other in others:
        if other.id != move.id and other.kind is MoveKind.JOB_ROTATION and move.overlaps(other):
            raise RotationsOverlap(
                f"the rotation {move.start_date}..{move.last_day} overlaps rotation {other.id} "
                f"({other.start_date}..{other.last_day})",
                field="start_date",
            )


def check_can_end(move: CareerMove, end_date: dt.date) -> None:
    if move.kind not in TEMPORARY:
        raise MoveNotEndable(
            f"a {move.kind.value} is permanent; only job rotations and secondments end",
            field="move_id",
        )
    if move.end_date is not None:
        raise MoveAlreadyEnded(f"the move already ended on {move.end_date}", field="move_id")
    if end_date < move.start_date:
        raise MoveDatesInvalid(
            f"end_date {end_date} is before the move's start_date {move.start_date}",
            field="end_date",
        )
