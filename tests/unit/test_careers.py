"""Career rules on the Person aggregate: scope derivation, dates, overlaps, placement over time."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.enrolment.domain.careers import (
    MoveAlreadyEnded,
    MoveDatesInvalid,
    MoveKind,
    MoveNotEndable,
    MoveNotFound,
    Placement,
    RotationsOverlap,
    Scope,
    ScopeContradicted,
    ScopeRequired,
    decide_scope,
)
from services.enrolment.domain.people import AlreadyErased, AttributeInvalid, Person
from tests.unit.factories import meta

HOME = Placement("TEM", "Innovation", "Digital", None)
D = dt.date


def person() -> Person:
    return Person.register(uuid.uuid4(), "aesgcm1.opaque", "TEM", "Innovation", "Digital", meta())


# Scope derivation ---------------------------------------------------------------------------

DERIVED = [
    # kind, organisation, department, unit -> the only scope the data allows
    (MoveKind.TRANSFER, "TEM", "Innovation", "Digital", Scope.SAME_UNIT),
    (MoveKind.JOB_ROTATION, "tem", " innovation ", "DIGITAL", Scope.SAME_UNIT),
    (MoveKind.TRANSFER, "TEM", "Innovation", "Data", Scope.OTHER_UNIT),
    (MoveKind.PROMOTION, "TEM", "Enterprises", "Growth", Scope.OTHER_DEPARTMENT),
    (MoveKind.NEW_POST, "TEM", "Enterprises", None, Scope.OTHER_DEPARTMENT),
    (MoveKind.LEFT_STATE, "Private Oy", None, None, Scope.OUTSIDE_STATE),
    (MoveKind.LEFT_STATE, "TEM", "Innovation", "Digital", Scope.OUTSIDE_STATE),
]


@pytest.mark.parametrize(("kind", "organisation", "department", "unit", "expected"), DERIVED)
def test_the_scope_is_derived_where_the_data_allows(
    kind: MoveKind, organisation: str, department: str | None, unit: str | None, expected: Scope
) -> None:
    assert decide_scope(kind, HOME, organisation, department, unit, None) == (expected, True)
    # Giving the derivable scope is accepted, and still counts as derived.
    assert decide_scope(kind, HOME, organisation, department, unit, expected) == (expected, True)


UNDERIVABLE = [
    # Another organisation: an agency of the group, another state body, or outside the state.
    (MoveKind.SECONDMENT, "Business Finland", None, None, Scope.GROUP_AGENCY),
    (MoveKind.TRANSFER, "Ministry of Finance", "Budget", None, Scope.OTHER_STATE_ORGANISATION),
    (MoveKind.SECONDMENT, "European Commission", None, None, Scope.OUTSIDE_STATE),
    # The same department with the unit unknown: same unit or another.
    (MoveKind.JOB_ROTATION, "TEM", "Innovation", None, Scope.OTHER_UNIT),
]


@pytest.mark.parametrize(("kind", "organisation", "department", "unit", "given"), UNDERIVABLE)
def test_a_scope_the_data_cannot_decide_must_be_given(
    kind: MoveKind, organisation: str, department: str | None, unit: str | None, given: Scope
) -> None:
    with pytest.raises(ScopeRequired) as refused:
        decide_scope(kind, HOME, organisation, department, unit, None)
    assert refused.value.field == "scope"
    assert decide_scope(kind, HOME, organisation, department, unit, given) == (given, False)


@pytest.mark.parametrize(
    ("kind", "organisation", "department", "unit", "given"),
    [
        (MoveKind.TRANSFER, "TEM", "Innovation", "Digital", Scope.OTHER_UNIT),
        (MoveKind.TRANSFER, "TEM", "Enterprises", "Growth", Scope.SAME_UNIT),
        (MoveKind.TRANSFER, "Ministry of Finance", None, None, Scope.OTHER_DEPARTMENT),
        (MoveKind.LEFT_STATE, "Private Oy", None, None, Scope.OTHER_STATE_ORGANISATION),
        (MoveKind.SECONDMENT, "TEM", "Innovation", "Data", Scope.GROUP_AGENCY),
    ],
)
def test_a_given_scope_that_contradicts_the_data_is_refused(
    kind: MoveKind, organisation: str, department: str | None, unit: str | None, given: Scope
) -> None:
    with pytest.raises(ScopeContradicted) as refused:
        decide_scope(kind, HOME, organisation, department, unit, given)
    assert refused.value.field == "scope"


def test_the_scope_is_relative_to_the_placement_on_the_start_date() -> None:
    p = person()
    p.change_placement("Enterprises", "Growth", D(2021, 1, 1), meta())
    before = p.record_move(
        MoveKind.TRANSFER, "TEM", D(2020, 6, 1), meta(), department="Innovation", unit="Digital"
    )
    after = p.record_move(
        MoveKind.NEW_POST, "TEM", D(2022, 6, 1), meta(), department="Innovation", unit="Digital"
    )
    assert before.scope is Scope.SAME_UNIT
    assert after.scope is Scope.OTHER_DEPARTMENT


# Dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "planned", "end", "field"),
    [
        (MoveKind.JOB_ROTATION, None, None, "planned_end_date"),
        (MoveKind.JOB_ROTATION, D(2020, 12, 31), None, "planned_end_date"),
        (MoveKind.JOB_ROTATION, D(2021, 12, 31), D(2020, 12, 31), "end_date"),
        (MoveKind.SECONDMENT, None, D(2020, 12, 31), "end_date"),
        (MoveKind.TRANSFER, D(2022, 1, 1), None, "planned_end_date"),
        (MoveKind.PROMOTION, None, D(2022, 1, 1), "end_date"),
    ],
)
def test_inconsistent_dates_are_refused_naming_the_field(
    kind: MoveKind, planned: dt.date | None, end: dt.date | None, field: str
) -> None:
    p = person()
    with pytest.raises(MoveDatesInvalid) as refused:
        p.record_move(
            kind,
            "TEM",
            D(2021, 1, 1),
            meta(),
            department="Innovation",
            unit="Data",
            planned_end_date=planned,
            end_date=end,
        )
    assert refused.value.field == field
    assert p.moves == {}


def test_a_rotation_may_end_on_its_start_day() -> None:
    move = person().record_move(
        MoveKind.JOB_ROTATION,
        "TEM",
        D(2021, 1, 1),
        meta(),
        department="Innovation",
        unit="Data",
        planned_end_date=D(2021, 1, 1),
    )
    assert move.last_day == D(2021, 1, 1)


def rotate(p: Person, start: dt.date, planned: dt.date, end: dt.date | None = None) -> uuid.UUID:
    return p.record_move(
        MoveKind.JOB_ROTATION,
        "TEM",
        start,
        meta(),
        department="Innovation",
        unit="Data",
        planned_end_date=planned,
        end_date=end,
    ).id


@pytest.mark.parametrize(
    ("start", "planned"),
    [
        (D(2021, 3, 1), D(2021, 4, 1)),  # inside
        (D(2020, 12, 1), D(2021, 1, 1)),  # ends on the other's first day
        (D(2021, 6, 30), D(2021, 9, 1)),  # starts on the other's last day
        (D(2020, 1, 1), D(2022, 1, 1)),  # around
    ],
)
def test_overlapping_rotations_are_a_conflict(start: dt.date, planned: dt.date) -> None:
    p = person()
    rotate(p, D(2021, 1, 1), D(2021, 6, 30))
    with pytest.raises(RotationsOverlap):
        rotate(p, start, planned)
    assert len(p.moves) == 1


def test_back_to_back_rotations_and_an_overlapping_secondment_are_allowed() -> None:
    p = person()
    rotate(p, D(2021, 1, 1), D(2021, 6, 30))
    rotate(p, D(2021, 7, 1), D(2021, 12, 31))
    p.record_move(
        MoveKind.SECONDMENT, "Business Finland", D(2021, 3, 1), meta(), scope=Scope.GROUP_AGENCY
    )
    assert len(p.moves) == 3


def test_a_rotation_ended_late_may_not_run_into_the_next() -> None:
    p = person()
    first = rotate(p, D(2021, 1, 1), D(2021, 6, 30))
    rotate(p, D(2021, 7, 1), D(2021, 12, 31))
    with pytest.raises(RotationsOverlap):
        p.end_move(first, D(2021, 7, 15), meta())
    assert p.end_move(first, D(2021, 5, 31), meta()).end_date == D(2021, 5, 31)


def test_the_actual_end_is_a_new_event_and_the_planned_end_stays() -> None:
    p = person()
    move_id = rotate(p, D(2021, 1, 1), D(2021, 6, 30))
    p.collect_events()
    ended = p.end_move(move_id, D(2021, 8, 31), meta())
    assert (ended.planned_end_date, ended.end_date, ended.last_day) == (
        D(2021, 6, 30),
        D(2021, 8, 31),
        D(2021, 8, 31),
    )
    assert [type(e).__name__ for e in p.collect_events()] == ["CareerMoveEnded"]


def test_ending_is_refused_for_permanent_moves_twice_ended_and_before_the_start() -> None:
    p = person()
    transfer = p.record_move(
        MoveKind.TRANSFER, "TEM", D(2021, 1, 1), meta(), department="X", unit="Y"
    )
    with pytest.raises(MoveNotEndable):
        p.end_move(transfer.id, D(2022, 1, 1), meta())
    rotation = rotate(p, D(2022, 1, 1), D(2022, 6, 30))
    with pytest.raises(MoveDatesInvalid) as early:
        p.end_move(rotation, D(2021, 12, 31), meta())
    assert early.value.field == "end_date"
    p.end_move(rotation, D(2022, 6, 30), meta())
    with pytest.raises(MoveAlreadyEnded):
        p.end_move(rotation, D(2022, 7, 30), meta())
    with pytest.raises(MoveNotFound):
        p.end_move(uuid.uuid4(), D(2022, 7, 30), meta())


# Placement over time ------------------------------------------------------------------------


def test_a_permanent_move_places_the_person_from_its_start_date() -> None:
    p = person()
    move = p.record_move(
        MoveKind.PROMOTION, "TEM", D(2022, 1, 1), meta(), department="Enterprises", unit="Growth"
    )
    assert p.placement_at(D(2021, 12, 31)) == HOME
    assert p.placement_at(D(2022, 1, 1)) == Placement(
        "TEM", "Enterprises", "Growth", D(2022, 1, 1), move.id
    )
    assert (p.organisation, p.department, p.unit) == ("TEM", "Enterprises", "Growth")
    assert [type(e).__name__ for e in p.collect_events()][-2:] == [
        "CareerMoveRecorded",
        "PlacementChanged",
    ]


@pytest.mark.parametrize("kind", [MoveKind.JOB_ROTATION, MoveKind.SECONDMENT, MoveKind.LEFT_STATE])
def test_temporary_moves_and_leaving_keep_the_home_placement(kind: MoveKind) -> None:
    p = person()
    p.record_move(
        kind,
        "Elsewhere",
        D(2022, 1, 1),
        meta(),
        scope=Scope.OUTSIDE_STATE,
        planned_end_date=D(2022, 6, 1) if kind is MoveKind.JOB_ROTATION else None,
    )
    assert p.placement_at(D(2022, 3, 1)) == HOME
    assert len(p.placements) == 1


def test_placement_history_is_kept_in_date_order_and_a_same_day_change_corrects() -> None:
    p = person()
    p.change_placement("B", "b", D(2022, 1, 1), meta())
    p.change_placement("A", "a", D(2021, 1, 1), meta())  # recorded late, placed in order
    p.change_placement("B", "b2", D(2022, 1, 1), meta())  # corrects the 2022 change
    assert [(x.department, x.unit, x.effective_date) for x in p.placements] == [
        ("Innovation", "Digital", None),
        ("A", "a", D(2021, 1, 1)),
        ("B", "b2", D(2022, 1, 1)),
    ]
    assert p.placement_at(D(2021, 6, 1)).department == "A"
    assert p.placement_at(D(2020, 6, 1)) == HOME
    assert p.organisation == "TEM"  # the organisation in force stays unless given


def test_placement_fields_are_checked() -> None:
    p = person()
    with pytest.raises(AttributeInvalid) as refused:
        p.change_placement("Dept", "bad\nunit", D(2022, 1, 1), meta())
    assert refused.value.field == "unit"


def test_nothing_changes_for_an_erased_person() -> None:
    p = person()
    move_id = rotate(p, D(2021, 1, 1), D(2021, 6, 30))
    p.erase(meta())
    assert p.personal is None and p.erased
    with pytest.raises(AlreadyErased):
        p.change_placement("A", "a", D(2022, 1, 1), meta())
    with pytest.raises(AlreadyErased):
        rotate(p, D(2023, 1, 1), D(2023, 2, 1))
    with pytest.raises(AlreadyErased):
        p.end_move(move_id, D(2021, 6, 30), meta())
    with pytest.raises(AlreadyErased):
        p.erase(meta())
