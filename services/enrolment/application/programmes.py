"""Programme commands and queries: define, add goals, retire."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from services.enrolment.domain import Meta
from services.enrolment.domain.programmes import Programme
from shared.eventstore import ServiceApplication


class ProgrammeCommands(ServiceApplication):
    def define_programme(
        self,
        name: str,
        organisation: str,
        meta: Meta,
        description: str = "",
        goals: tuple[str, ...] = (),
    ) -> Programme:
        programme = Programme.define(name, organisation, description, list(goals), meta)
        self.save_all(programme)
        return programme

    def add_programme_goal(
        self, programme_id: UUID, goal: str, meta: Meta, expected_version: int | None = None
    ) -> Programme:
        def attempt() -> Programme:
            programme = self._programme_for_change(programme_id, expected_version)
            programme.add_goal(goal, meta)
            self.save_all(programme)
            return programme

        return self.retrying(attempt, key=programme_id)

    def retire_programme(
        self,
        programme_id: UUID,
        reason: str,
        meta: Meta,
        on: dt.date | None = None,
        expected_version: int | None = None,
    ) -> Programme:
        def attempt() -> Programme:
            programme = self._programme_for_change(programme_id, expected_version)
            programme.retire(reason, meta, on)
            self.save_all(programme)
            return programme

        return self.retrying(attempt, key=programme_id)

    def _programme_for_change(self, programme_id: UUID, expected_version: int | None) -> Programme:
        return self.get(  # type: ignore[no-any-return]
            programme_id, Programme, "programme", expected_version=expected_version
        )

    def programme(self, programme_id: UUID, version: int | None = None) -> Programme:
        return self.get(programme_id, Programme, "programme", version=version)  # type: ignore[no-any-return]
