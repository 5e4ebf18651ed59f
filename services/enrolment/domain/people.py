"""People: the pseudonymous id everything else refers to, their placement, moves and erasure.

A person's personal fields (name, e-mail, employee number) reach the domain only *sealed*: an
opaque string the application encrypted with the person's own key (crypto-shredding). The domain
never reads it; erasure drops it from the state, and deleting the key (outside the domain) makes
every stored copy unreadable. What survives erasure is pseudonymous: the id, organisation,
department, unit, role, profession category, education level, placements and career moves.

A placement or permanent move dated in the future is a *scheduled* change: it is stored at once,
and becomes the person's placement only from its date. :meth:`Person.placement_at` answers for any
day (the application asks it for the day its clock says is today); :attr:`Person.placement` is
today's by the system clock, never simply the latest recorded.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.enrolment.domain import Meta, dates
from services.enrolment.domain.careers import (
    PERMANENT,
    CareerMove,
    MoveKind,
    MoveNotFound,
    Placement,
    Scope,
    check_can_end,
    check_dates,
    check_no_overlap,
    decide_scope,
)
from shared.errors import ConflictError, RuleViolation

TEXT_MAX = 200
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class AttributeInvalid(RuleViolation):
    pass


class EmployeeNumberTaken(ConflictError):
    pass


class AlreadyErased(ConflictError):
    pass


def check_text(field: str, value: object, *, required: bool = True) -> None:
    """A one-line attribute of 1 to 200 characters (or absent, when not required)."""
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        raise AttributeInvalid(f"{field} is required", field=field)
    if len(value) > TEXT_MAX:
        raise AttributeInvalid(f"{field} is longer than {TEXT_MAX} characters", field=field)
    if _CONTROL.search(value):
        raise AttributeInvalid(f"{field} must not contain control characters", field=field)


ATTRIBUTES = ("role", "profession_category", "education_level")
"""Optional, free one-line values: role "expert" or "manager", profession "lawyer", ..."""


class Person(Aggregate):
    """A person, known everywhere else only by this aggregate's id (the pseudonymous id)."""

    TOPIC = "polku.enrolment:Person"

    class Event(Aggregate.Event):
        TOPIC = "polku.enrolment:Person.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.enrolment:Person.Created"

    # Registration -----------------------------------------------------------------------------

    @staticmethod
    def check_placement(organisation: object, department: object, unit: object) -> None:
        check_text("organisation", organisation)
        check_text("department", department)
        check_text("unit", unit)

    @staticmethod
    def check_attributes(attributes: dict[str, str | None]) -> None:
        for name in ATTRIBUTES:
            check_text(name, attributes.get(name), required=False)

    @classmethod
    def register(
        cls,
        person_id: UUID,
        personal: str,
        organisation: str,
        department: str,
        unit: str,
        meta: Meta,
        attributes: dict[str, str | None] | None = None,
    ) -> Person:
        """A new person; ``personal`` is their sealed personal fields, opaque here."""
        cls.check_placement(organisation, department, unit)
        attributes = attributes or {}
        cls.check_attributes(attributes)
        person = cls(person_id, personal, organisation, department, unit, meta)
        if any(attributes.get(name) is not None for name in ATTRIBUTES):
            person.record_attributes(attributes, meta)
        return person

    @event("Registered", topic="polku.enrolment:Person.Registered")
    def __init__(
        self,
        id: UUID,  # the library passes a given aggregate id by this name
        personal: str,
        organisation: str,
        department: str,
        unit: str,
        meta: Meta,
    ) -> None:
        self.personal: str | None = personal
        self.placements = [Placement(organisation, department, unit, None)]
        self.role: str | None = None
        self.profession_category: str | None = None
        self.education_level: str | None = None
        self.moves: dict[UUID, CareerMove] = {}
        self.erased_at: dt.datetime | None = None

    @property
    def placement(self) -> Placement:
        """The placement in force today; a change dated later is scheduled, not current."""
        return self.placement_at(dates.today())

    def scheduled(self, day: dt.date) -> list[Placement]:
        """The placements dated after ``day``: changes scheduled, not yet in force."""
        return [p for p in self.placements[1:] if p.effective_date and p.effective_date > day]

    @property
    def organisation(self) -> str:
        return self.placement.organisation

    @property
    def department(self) -> str | None:
        return self.placement.department

    @property
    def unit(self) -> str | None:
        return self.placement.unit

    @property
    def erased(self) -> bool:
        return self.erased_at is not None

    def check_not_erased(self) -> None:
        if self.erased_at is not None:
            raise AlreadyErased(f"person {self.id} was erased at {self.erased_at.isoformat()}")

    # Attributes -------------------------------------------------------------------------------

    def record_attributes(self, attributes: dict[str, str | None], meta: Meta) -> None:
        """Records role, profession category and education level (absent ones as unknown)."""
        self.check_not_erased()
        self.check_attributes(attributes)
        self._attributes_recorded(
            attributes.get("role"),
            attributes.get("profession_category"),
            attributes.get("education_level"),
            meta,
        )

    @event("AttributesRecorded", topic="polku.enrolment:Person.AttributesRecorded")
    def _attributes_recorded(
        self,
        role: str | None,
        profession_category: str | None,
        education_level: str | None,
        meta: Meta,
    ) -> None:
        self.role = role
        self.profession_category = profession_category
        self.education_level = education_level

    # Placement --------------------------------------------------------------------------------

    def placement_at(self, day: dt.date) -> Placement:
        """The placement in force on ``day``: the latest effective on or before it."""
        current = self.placements[0]
        for placement in self.placements[1:]:
            assert placement.effective_date is not None
            if placement.effective_date > day:
                break
            current = placement
        return current

    def change_placement(
        self,
        department: str,
        unit: str,
        effective_date: dt.date,
        meta: Meta,
        organisation: str | None = None,
    ) -> None:
        """A move to another department or unit from ``effective_date``; the organisation
        stays the one in force on that date unless given. A second change for the same date
        corrects the first (both stay in the history of events)."""
        self.check_not_erased()
        organisation = organisation or self.placement_at(effective_date).organisation
        self.check_placement(organisation, department, unit)
        self._placement_changed(organisation, department, unit, effective_date, None, meta)

    @event("PlacementChanged", topic="polku.enrolment:Person.PlacementChanged")
    def _placement_changed(
        self,
        organisation: str,
        department: str | None,
        unit: str | None,
        effective_date: dt.date,
        move_id: UUID | None,
        meta: Meta,
    ) -> None:
        placed = Placement(organisation, department, unit, effective_date, move_id)
        kept = [p for p in self.placements[1:] if p.effective_date != effective_date]
        dated = sorted([*kept, placed], key=lambda p: p.effective_date or dt.date.min)
        self.placements = [self.placements[0], *dated]

    # Career moves -----------------------------------------------------------------------------

    def record_move(
        self,
        kind: MoveKind,
        organisation: str,
        start_date: dt.date,
        meta: Meta,
        *,
        department: str | None = None,
        unit: str | None = None,
        planned_end_date: dt.date | None = None,
        end_date: dt.date | None = None,
        scope: Scope | None = None,
    ) -> CareerMove:
        """Records a move; a permanent one also places the person there from its start."""
        self.check_not_erased()
        check_text("organisation", organisation)
        check_text("department", department, required=False)
        check_text("unit", unit, required=False)
        check_dates(kind, start_date, planned_end_date, end_date)
        home = self.placement_at(start_date)
        decided, derived = decide_scope(kind, home, organisation, department, unit, scope)
        move = CareerMove(
            uuid.uuid4(),
            kind,
            organisation,
            department,
            unit,
            decided,
            derived,
            start_date,
            planned_end_date,
            end_date,
        )
        check_no_overlap(move, list(self.moves.values()))
        self._move_recorded(
            move.id,
            kind.value,
            organisation,
            department,
            unit,
            decided.value,
            derived,
            start_date,
            planned_end_date,
            end_date,
            meta,
        )
        if kind in PERMANENT:
            self._placement_changed(organisation, department, unit, start_date, move.id, meta)
        return self.moves[move.id]

    @event("CareerMoveRecorded", topic="polku.enrolment:Person.CareerMoveRecorded")
    def _move_recorded(
        self,
        move_id: UUID,
        kind: str,
        organisation: str,
        department: str | None,
        unit: str | None,
        scope: str,
        scope_derived: bool,
        start_date: dt.date,
        planned_end_date: dt.date | None,
        end_date: dt.date | None,
        meta: Meta,
    ) -> None:
        self.moves[move_id] = CareerMove(
            move_id,
            MoveKind(kind),
            organisation,
            department,
            unit,
            Scope(scope),
            scope_derived,
            start_date,
            planned_end_date,
            end_date,
        )

    def move(self, move_id: UUID) -> CareerMove:
        try:
            return self.moves[move_id]
        except KeyError:
            raise MoveNotFound(f"person {self.id} has no career move {move_id}") from None

    def end_move(self, move_id: UUID, end_date: dt.date, meta: Meta) -> CareerMove:
        """Records when a rotation or secondment actually ended."""
        self.check_not_erased()
        move = self.move(move_id)
        check_can_end(move, end_date)
        check_no_overlap(move.ended(end_date), list(self.moves.values()))
        self._move_ended(move_id, end_date, meta)
        return self.moves[move_id]

    @event("CareerMoveEnded", topic="polku.enrolment:Person.CareerMoveEnded")
    def _move_ended(self, move_id: UUID, end_date: dt.date, meta: Meta) -> None:
        self.moves[move_id] = self.moves[move_id].ended(end_date)

    # Corrections ------------------------------------------------------------------------------

    def correct_personal(self, personal: str, corrected: list[str], meta: Meta) -> None:
        """Records corrected personal fields: ``personal`` is all of them sealed again under
        the person's same key (so erasure still shreds every version); ``corrected`` names
        which changed."""
        self.check_not_erased()
        self._personal_corrected(personal, sorted(corrected), meta)

    @event("PersonalCorrected", topic="polku.enrolment:Person.PersonalCorrected")
    def _personal_corrected(self, personal: str, corrected: list[str], meta: Meta) -> None:
        self.personal = personal

    # Erasure ----------------------------------------------------------------------------------

    def erase(self, meta: Meta) -> None:
        """Records that the person's personal fields were erased (their key is deleted)."""
        self.check_not_erased()
        self._erased(dt.datetime.now(dt.UTC), meta)

    @event("Erased", topic="polku.enrolment:Person.Erased")
    def _erased(self, erased_at: dt.datetime, meta: Meta) -> None:
        self.personal = None
        self.erased_at = erased_at
