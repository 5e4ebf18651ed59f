"""Correcting a person's personal fields: a name or e-mail address misspelt, an employee number
mistyped.

The corrected fields are sealed again under the person's *same* key, so erasure still shreds
every version at once, and an earlier version (``?version=``) still opens. A new employee
number moves the person's blind index, and stays unique among people not erased: one held by
someone else is a 409. The key store changes first; if the event is then not saved, the old
index is put back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from uuid import UUID

from services.enrolment.application.people import PeopleCommands, PersonRecord
from services.enrolment.domain import Meta
from services.enrolment.domain.people import EmployeeNumberTaken, Person
from services.enrolment.keystore import LookupTaken
from services.enrolment.personal import PERSONAL_CHECKS, Personal, seal
from shared.errors import ConflictError


class KeyMissing(ConflictError):
    pass


class CorrectionCommands(PeopleCommands):
    def correct_personal(
        self,
        person_id: UUID,
        changes: Mapping[str, str],
        meta: Meta,
        expected_version: int | None = None,
    ) -> PersonRecord:
        """Corrects some of full_name, email and employee_number; giving none of them, or the
        values the person has already, records nothing."""
        for name, value in changes.items():
            PERSONAL_CHECKS[name](value)

        def attempt() -> PersonRecord:
            person: Person = self.get(
                person_id, Person, "person", expected_version=expected_version
            )
            person.check_not_erased()
            key = self.personal_data.keys.keys([person_id]).get(person_id)
            if key is None or person.personal is None:
                raise KeyMissing(f"person {person_id}'s key is missing; nothing can be sealed")
            current = self.personal_data.reveal([(person_id, person.personal)])[person_id]
            corrected = Personal(**{**dataclasses.asdict(current), **changes})
            names = [n for n in changes if getattr(current, n) != getattr(corrected, n)]
            if not names:
                return PersonRecord(person, current)
            old_lookup = self.personal_data.lookup(current.employee_number)
            new_lookup = self.personal_data.lookup(corrected.employee_number)
            moved = new_lookup != old_lookup
            if moved:
                self._move_lookup(person_id, new_lookup)
            try:
                person.correct_personal(seal(corrected, key, person_id), names, meta)
                self.save_all(person)
            except BaseException:
                if moved:
                    self.personal_data.keys.relookup(person_id, old_lookup)
                raise
            return PersonRecord(person, corrected)

        return self.retrying(attempt, key=person_id)

    def _move_lookup(self, person_id: UUID, lookup: str) -> None:
        with self._registering:  # the same check-then-add as a registration's
            holder = self.registered_numbers([lookup]).get(lookup)
            if holder is not None and holder != person_id:
                raise EmployeeNumberTaken(
                    "a person with this employee number is registered already",
                    field="employee_number",
                )
            try:
                self.personal_data.keys.relookup(person_id, lookup)
            except LookupTaken:
                raise EmployeeNumberTaken(
                    "a person with this employee number was registered just now",
                    field="employee_number",
                ) from None
