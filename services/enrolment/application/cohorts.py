"""Cohort commands and queries: planning, the lifecycle and enrolment."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from services.enrolment.domain import Meta
from services.enrolment.domain.cohorts import Cohort
from services.enrolment.domain.people import Person
from services.enrolment.domain.programmes import Programme
from shared.eventstore import ServiceApplication


class CohortCommands(ServiceApplication):
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

    def enrol(self, cohort_id: UUID, person_id: UUID, meta: Meta) -> dt.datetime:
        def attempt() -> dt.datetime:
            cohort: Cohort = self.get(cohort_id, Cohort, "cohort")
            self.get(person_id, Person, "person", field="person_id")
            cohort.enrol(person_id, meta)
            self.save_all(cohort)
            return cohort.enrolled[person_id]

        return self.retrying(attempt, key=cohort_id)

    def cohort(self, cohort_id: UUID, version: int | None = None) -> Cohort:
        return self.get(cohort_id, Cohort, "cohort", version=version)  # type: ignore[no-any-return]
