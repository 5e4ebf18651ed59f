"""People commands and queries: registration and placement."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from services.enrolment.domain import Meta
from services.enrolment.domain.people import Person
from shared.eventstore import ServiceApplication


class PeopleCommands(ServiceApplication):
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

    def person(self, person_id: UUID, version: int | None = None) -> Person:
        return self.get(person_id, Person, "person", version=version)  # type: ignore[no-any-return]
