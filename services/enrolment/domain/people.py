"""People: the pseudonymous id everything else refers to, and their placement."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from services.enrolment.domain import Meta


class Person(Aggregate):
    """A person, known everywhere else only by this aggregate's id (the pseudonymous id)."""

    TOPIC = "polku.enrolment:Person"

    class Event(Aggregate.Event):
        TOPIC = "polku.enrolment:Person.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.enrolment:Person.Created"

    @event("Registered", topic="polku.enrolment:Person.Registered")
    def __init__(
        self,
        full_name: str,
        email: str,
        employee_number: str,
        organisation: str,
        department: str,
        unit: str,
        meta: Meta,
    ) -> None:
        self.full_name = full_name
        self.email = email
        self.employee_number = employee_number
        self.organisation = organisation
        self.department = department
        self.unit = unit
