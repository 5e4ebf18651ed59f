"""Career-move commands and queries, on the person whose career it is."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from services.enrolment.domain import Meta
from services.enrolment.domain.careers import CareerMove, MoveKind, Scope
from services.enrolment.domain.people import AttributeInvalid, Person
from shared.eventstore import ServiceApplication

E = TypeVar("E", bound=StrEnum)


def one_of(kind: type[E], value: str, field: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise AttributeInvalid(f"{field} must be one of {allowed}", field=field) from None


class CareerCommands(ServiceApplication):
    def record_career_move(
        self,
        person_id: UUID,
        kind: str,
        organisation: str,
        start_date: dt.date,
        meta: Meta,
        *,
        department: str | None = None,
        unit: str | None = None,
        planned_end_date: dt.date | None = None,
        end_date: dt.date | None = None,
        scope: str | None = None,
        expected_version: int | None = None,
    ) -> CareerMove:
        move_kind = one_of(MoveKind, kind, "kind")
        given_scope = one_of(Scope, scope, "scope") if scope is not None else None

        def attempt() -> CareerMove:
            person: Person = self.get(
                person_id, Person, "person", expected_version=expected_version
            )
            move = person.record_move(
                move_kind,
                organisation,
                start_date,
                meta,
                department=department,
                unit=unit,
                planned_end_date=planned_end_date,
                end_date=end_date,
                scope=given_scope,
            )
            self.save_all(person)
            return move

        return self.retrying(attempt, key=person_id)

    def end_career_move(
        self,
        person_id: UUID,
        move_id: UUID,
        end_date: dt.date,
        meta: Meta,
        expected_version: int | None = None,
    ) -> CareerMove:
        def attempt() -> CareerMove:
            person: Person = self.get(
                person_id, Person, "person", expected_version=expected_version
            )
            move = person.end_move(move_id, end_date, meta)
            self.save_all(person)
            return move

        return self.retrying(attempt, key=person_id)

    def career_moves(self, person_id: UUID, version: int | None = None) -> list[CareerMove]:
        """The person's moves by start date (then in the order recorded)."""
        person: Person = self.get(person_id, Person, "person", version=version)
        return sorted(person.moves.values(), key=lambda move: move.start_date)
