"""Cohorts: runs of a programme, with their capacity, window and enrolments."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.enrolment.domain import Meta
from shared.errors import ConflictError, RuleViolation


class CohortWindowInvalid(RuleViolation):
    pass


class CapacityInvalid(RuleViolation):
    pass


class CohortFull(ConflictError):
    pass


class AlreadyEnrolled(ConflictError):
    pass


class Cohort(Aggregate):
    TOPIC = "polku.enrolment:Cohort"

    class Event(Aggregate.Event):
        TOPIC = "polku.enrolment:Cohort.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.enrolment:Cohort.Created"

    @staticmethod
    def check_window(start_date: dt.date, end_date: dt.date) -> None:
        if end_date <= start_date:
            raise CohortWindowInvalid("end_date must be after start_date", field="end_date")

    @staticmethod
    def check_capacity(capacity: int) -> None:
        if capacity < 1:
            raise CapacityInvalid("capacity must be at least 1", field="capacity")

    @classmethod
    def plan(
        cls,
        programme_id: UUID,
        name: str,
        capacity: int,
        start_date: dt.date,
        end_date: dt.date,
        meta: Meta,
    ) -> Cohort:
        cls.check_window(start_date, end_date)
        cls.check_capacity(capacity)
        return cls(programme_id, name, capacity, start_date, end_date, meta)

    @event("Planned", topic="polku.enrolment:Cohort.Planned")
    def __init__(
        self,
        programme_id: UUID,
        name: str,
        capacity: int,
        start_date: dt.date,
        end_date: dt.date,
        meta: Meta,
    ) -> None:
        self.programme_id = programme_id
        self.name = name
        self.capacity = capacity
        self.start_date = start_date
        self.end_date = end_date
        self.enrolled: dict[UUID, dt.datetime] = {}

    def check_can_enrol(self, person_id: UUID) -> None:
        if person_id in self.enrolled:
            raise AlreadyEnrolled(
                f"person {person_id} is already enrolled in this cohort", field="person_id"
            )
        if len(self.enrolled) >= self.capacity:
            raise CohortFull(f"the cohort is full ({self.capacity} of {self.capacity} places)")

    def enrol(self, person_id: UUID, meta: Meta) -> None:
        self.check_can_enrol(person_id)
        self._enrolled(person_id, dt.datetime.now(dt.UTC), meta)

    @event("ParticipantEnrolled", topic="polku.enrolment:Cohort.ParticipantEnrolled")
    def _enrolled(self, person_id: UUID, enrolled_at: dt.datetime, meta: Meta) -> None:
        self.enrolled[person_id] = enrolled_at
