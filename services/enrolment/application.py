"""Enrolment application: thin commands (load, ask the domain, save) and plain-value queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.enrolment.domain import Cohort, Meta, Person, Programme
from shared.errors import NotFoundError
from shared.eventstore import ServiceApplication

# The "created" topics double as an index: listing a kind reads only its creation events.
LISTABLE = {
    "programmes": (Programme, "polku.enrolment:Programme.Defined"),
    "cohorts": (Cohort, "polku.enrolment:Cohort.Planned"),
    "people": (Person, "polku.enrolment:Person.Registered"),
}


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_after: int | None


class EnrolmentApplication(ServiceApplication):
    """Commands return what they saved, so callers need not read it back."""

    name = "enrolment"

    def define_programme(
        self,
        name: str,
        organisation: str,
        meta: Meta,
        description: str = "",
        goals: tuple[str, ...] = (),
    ) -> Programme:
        programme = Programme(name, organisation, description, list(goals), meta)
        self.save_all(programme)
        return programme

    def plan_cohort(
        self,
        programme_id: UUID,
        name: str,
        capacity: int,
        start_date: dt.date,
        end_date: dt.date,
        meta: Meta,
    ) -> Cohort:
        self.get(programme_id, Programme, "programme", field="programme_id")
        cohort = Cohort.plan(programme_id, name, capacity, start_date, end_date, meta)
        self.save_all(cohort)
        return cohort

    def register_person(self, fields: Mapping[str, str], meta: Meta) -> Person:
        person = Person(
            fields["full_name"],
            fields["email"],
            fields["employee_number"],
            fields["organisation"],
            fields["department"],
            fields["unit"],
            meta,
        )
        self.save_all(person)
        return person

    def enrol(self, cohort_id: UUID, person_id: UUID, meta: Meta) -> dt.datetime:
        def attempt() -> dt.datetime:
            cohort: Cohort = self.get(cohort_id, Cohort, "cohort")
            self.get(person_id, Person, "person", field="person_id")
            cohort.enrol(person_id, meta)
            self.save_all(cohort)
            return cohort.enrolled[person_id]

        return self.retrying(attempt, key=cohort_id)

    def programme(self, programme_id: UUID) -> Programme:
        return self.get(programme_id, Programme, "programme")  # type: ignore[no-any-return]

    def cohort(self, cohort_id: UUID) -> Cohort:
        return self.get(cohort_id, Cohort, "cohort")  # type: ignore[no-any-return]

    def person(self, person_id: UUID) -> Person:
        return self.get(person_id, Person, "person")  # type: ignore[no-any-return]

    def list(self, kind: str, after: int, limit: int) -> Page:
        """A page of one kind of aggregate, in creation order; ``next_after`` is the cursor."""
        if kind not in LISTABLE:
            raise NotFoundError(f"nothing called {kind}")
        _, topic = LISTABLE[kind]
        notifications = self.notifications_after(after, limit + 1, topics=[topic])
        page = notifications[:limit]
        items: list[Any] = [self.repository.get(UUID(str(n.originator_id))) for n in page]
        more = len(notifications) > limit
        return Page(items, page[-1].id if more and page else None)
