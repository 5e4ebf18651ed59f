"""Staff-survey commands and queries: record, correct, list by year and unit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from services.assessment.application.base import AssessmentBase, Page
from services.assessment.domain import Meta
from services.assessment.domain.instruments import Instrument
from services.assessment.domain.staff_survey import (
    DuplicateStaffSurveyResult,
    StaffSurveyResult,
    check_group_size,
    check_org_unit,
    check_year,
)

RECORDED = "polku.assessment:StaffSurveyResult.Recorded"


class StaffSurveyCommands(AssessmentBase):
    def prepare_staff_result(
        self,
        instrument: Instrument,
        year: int,
        level: str,
        organisation: str,
        department: str | None,
        unit: str | None,
        respondents: int,
        indices: Mapping[str, Any],
    ) -> tuple[UUID, dict[str, float]]:
        """Checks one staff-survey result: its id and its indices (nothing is stored)."""
        instrument.check_kind("staff_survey")
        instrument.check_not_retired()
        check_year(year)
        check_org_unit(level, department, unit)
        check_group_size(respondents, instrument.min_group_size)
        checked = instrument.check_scores(indices, "indices")
        result_id = StaffSurveyResult.create_id(
            instrument.id, year, level, organisation, department, unit
        )
        return result_id, checked

    def record_staff_result(
        self,
        instrument_id: UUID,
        year: int,
        level: str,
        organisation: str,
        department: str | None,
        unit: str | None,
        respondents: int,
        indices: Mapping[str, Any],
        meta: Meta,
    ) -> StaffSurveyResult:
        def attempt() -> StaffSurveyResult:
            instrument = self.instrument(instrument_id, field="instrument_id")
            result_id, checked = self.prepare_staff_result(
                instrument, year, level, organisation, department, unit, respondents, indices
            )
            if self.existing(result_id, StaffSurveyResult) is not None:
                raise DuplicateStaffSurveyResult(
                    f"this unit already has a result for {year}: correct {result_id} instead",
                    field="year",
                )
            result = StaffSurveyResult.record(
                instrument_id,
                year,
                level,
                organisation,
                department,
                unit,
                respondents,
                instrument.min_group_size,
                checked,
                meta,
            )
            instrument.put_in_use(meta)
            self.save_all(result, instrument)
            return result

        return self.retrying(attempt, key=instrument_id)

    def correct_staff_result(
        self,
        result_id: UUID,
        respondents: int,
        indices: Mapping[str, Any],
        reason: str,
        meta: Meta,
        expected_version: int | None = None,
    ) -> StaffSurveyResult:
        def attempt() -> StaffSurveyResult:
            result: StaffSurveyResult = self.get(
                result_id,
                StaffSurveyResult,
                "staff-survey result",
                expected_version=expected_version,
            )
            instrument = self.instrument(result.instrument_id)
            checked = instrument.check_scores(indices, "indices")
            result.correct(respondents, instrument.min_group_size, checked, reason, meta)
            self.save_all(result)
            return result

        return self.retrying(attempt, key=result_id)

    def staff_result(self, result_id: UUID, version: int | None = None) -> StaffSurveyResult:
        return self.get(  # type: ignore[no-any-return]
            result_id, StaffSurveyResult, "staff-survey result", version=version
        )

    def staff_results(
        self,
        after: int,
        limit: int,
        instrument_id: UUID | None = None,
        year: int | None = None,
        department: str | None = None,
        unit: str | None = None,
        level: str | None = None,
    ) -> Page:
        def keep(event: Any) -> bool:
            return (
                (instrument_id is None or event.instrument_id == instrument_id)
                and (year is None or event.year == year)
                and (department is None or event.department == department)
                and (unit is None or event.unit == unit)
                and (level is None or event.level == level)
            )

        return self.scan(RECORDED, after, limit, keep)
