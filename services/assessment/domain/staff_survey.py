"""Staff-survey results: yearly index values of an organisation, a department or a unit.

They are aggregates of a survey run elsewhere (the state staff survey): a respondent count and
one value per index on the instrument's scale. A group smaller than the instrument's minimum
``k`` is refused before anything is stored (422), because such a result must never exist here.
One result per (instrument, year, organisational unit): the id is a uuid5 of that key; a
correction supersedes the values and keeps the old ones in the history.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.assessment.domain import Meta, key_id
from shared.errors import ConflictError, RuleViolation

LEVELS = ("organisation", "department", "unit")


class DuplicateStaffSurveyResult(ConflictError):
    pass


class GroupBelowMinimum(RuleViolation):
    pass


class OrgUnitInvalid(RuleViolation):
    pass


def check_org_unit(level: str, department: str | None, unit: str | None) -> None:
    if level not in LEVELS:
        raise OrgUnitInvalid(f"level must be one of {', '.join(LEVELS)}", field="level")
    if level in ("department", "unit") and not department:
        raise OrgUnitInvalid(f"a {level} result names its department", field="department")
    if level == "unit" and not unit:
        raise OrgUnitInvalid("a unit result names its unit", field="unit")
    if level == "organisation" and (department or unit):
        raise OrgUnitInvalid(
            "an organisation-wide result names no department or unit", field="department"
        )
    if level == "department" and unit:
        raise OrgUnitInvalid("a department result names no unit", field="unit")


def check_year(year: int) -> None:
    if not 1990 <= year <= 2100:
        raise OrgUnitInvalid("year must be from 1990 to 2100", field="year")


def check_group_size(respondents: int, minimum: int) -> None:
    if respondents < minimum:
        raise GroupBelowMinimum(
            f"{respondents} respondents is below this instrument's minimum group size of "
            f"{minimum}; such a result is never stored",
            field="respondents",
        )


class StaffSurveyResult(Aggregate):
    TOPIC = "polku.assessment:StaffSurveyResult"

    class Event(Aggregate.Event):
        TOPIC = "polku.assessment:StaffSurveyResult.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.assessment:StaffSurveyResult.Created"

    @staticmethod
    def create_id(
        instrument_id: UUID,
        year: int,
        level: str,
        organisation: str,
        department: str | None,
        unit: str | None,
    ) -> UUID:
        return key_id(
            "staff-survey", instrument_id, year, level, organisation, department or "", unit or ""
        )

    @classmethod
    def record(
        cls,
        instrument_id: UUID,
        year: int,
        level: str,
        organisation: str,
        department: str | None,
        unit: str | None,
        respondents: int,
        minimum: int,
        indices: dict[str, float],
        meta: Meta,
    ) -> StaffSurveyResult:
        check_year(year)
        check_org_unit(level, department, unit)
        check_group_size(respondents, minimum)
        return cls(
            instrument_id, year, level, organisation, department, unit, respondents, indices, meta
        )

    @event("Recorded", topic="polku.assessment:StaffSurveyResult.Recorded")
    def __init__(
        self,
        instrument_id: UUID,
        year: int,
        level: str,
        organisation: str,
        department: str | None,
        unit: str | None,
        respondents: int,
        indices: dict[str, float],
        meta: Meta,
    ) -> None:
        self.instrument_id = instrument_id
        self.year = year
        self.level = level
        self.organisation = organisation
        self.department = department
        self.unit = unit
        self.respondents = respondents
        self.indices = dict(indices)
        self.superseded: list[dict[str, Any]] = []

    def correct(
        self, respondents: int, minimum: int, indices: dict[str, float], reason: str, meta: Meta
    ) -> None:
        check_group_size(respondents, minimum)
        if not reason.strip():
            raise OrgUnitInvalid("give a reason", field="reason")
        self._corrected(respondents, indices, reason, meta)

    @event("Corrected", topic="polku.assessment:StaffSurveyResult.Corrected")
    def _corrected(
        self, respondents: int, indices: dict[str, float], reason: str, meta: Meta
    ) -> None:
        self.superseded.append(
            {"version": self.version, "respondents": self.respondents, "indices": self.indices}
        )
        self.respondents = respondents
        self.indices = dict(indices)

    def same_values(self, respondents: int, indices: dict[str, float]) -> bool:
        return self.respondents == respondents and {
            k: float(v) for k, v in self.indices.items()
        } == {k: float(v) for k, v in indices.items()}
