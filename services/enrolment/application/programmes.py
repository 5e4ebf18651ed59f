"""Programme commands and queries."""

from __future__ import annotations

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
        programme = Programme(name, organisation, description, list(goals), meta)
        self.save_all(programme)
        return programme

    def programme(self, programme_id: UUID, version: int | None = None) -> Programme:
        return self.get(programme_id, Programme, "programme", version=version)  # type: ignore[no-any-return]
