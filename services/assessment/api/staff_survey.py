"""Staff-survey results: yearly indices per organisation, department or unit."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.assessment.api import survey_schemas as s
from services.assessment.api.access import INSTRUMENT_WRITERS, READERS, app_, as_page
from services.assessment.domain.staff_survey import StaffSurveyResult
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.versions import VersionArgs, expected_version

blp = Blueprint(
    "staff_survey",
    __name__,
    url_prefix="/assessment",
    description="Staff-survey results: unit-level yearly indices, never individual answers.",
)


def staff_view(r: StaffSurveyResult) -> dict[str, Any]:
    return {
        "id": r.id,
        "version": r.version,
        "instrument_id": r.instrument_id,
        "year": r.year,
        "level": r.level,
        "organisation": r.organisation,
        "department": r.department,
        "unit": r.unit,
        "respondents": r.respondents,
        "indices": r.indices,
        "corrections": len(r.superseded),
        "created_on": r.created_on,
    }


@blp.route("/staff-survey-results")
class StaffResults(MethodView):
    @requires(*INSTRUMENT_WRITERS)
    @blp.arguments(s.StaffResultIn())
    @blp.response(201, s.StaffResultOut())
    @blp.alt_response(404, **problem_doc("The instrument does not exist."))
    @blp.alt_response(409, **problem_doc("This unit already has a result for the year."))
    @blp.alt_response(
        422, **problem_doc("Fewer respondents than the minimum (never stored), or a bad index.")
    )
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a year's indices for an organisation, department or unit.

        A group with fewer respondents than the instrument's minimum k is refused (422) and
        nothing of it is stored.
        """
        result = app_().record_staff_result(
            body["instrument_id"],
            body["year"],
            body["level"],
            body["organisation"],
            body["department"],
            body["unit"],
            body["respondents"],
            body["indices"],
            event_meta(),
        )
        return staff_view(result)

    @requires(*READERS)
    @blp.arguments(s.StaffResultFilter(), location="query")
    @blp.response(200, s.StaffResultPage())
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List results by instrument, year, level, department or unit."""
        page = app_().staff_results(
            args["after"],
            args["limit"],
            instrument_id=args.get("instrument_id"),
            year=args.get("year"),
            department=args.get("department"),
            unit=args.get("unit"),
            level=args.get("level"),
        )
        return as_page(page, staff_view)


@blp.route("/staff-survey-results/<uuid:result_id>")
class StaffResultById(MethodView):
    @requires(*READERS)
    @blp.arguments(VersionArgs(), location="query")
    @blp.response(200, s.StaffResultOut())
    @blp.alt_response(404, **problem_doc("No such result (or version)."))
    def get(self, args: dict[str, Any], result_id: UUID) -> dict[str, Any]:
        """One result, as it is or as it was at ``?version=``."""
        return staff_view(app_().staff_result(result_id, version=args.get("version")))


@blp.route("/staff-survey-results/<uuid:result_id>/correction")
class StaffResultCorrection(MethodView):
    @requires(*INSTRUMENT_WRITERS)
    @blp.arguments(s.StaffCorrectionIn())
    @blp.response(201, s.StaffResultOut())
    @blp.alt_response(404, **problem_doc("No such result."))
    @blp.alt_response(409, **problem_doc("If-Match is stale."))
    @blp.alt_response(422, **problem_doc("Below the minimum, or a bad index."))
    def post(self, body: dict[str, Any], result_id: UUID) -> dict[str, Any]:
        """Correct a result; the previous values stay in its history."""
        result = app_().correct_staff_result(
            result_id,
            body["respondents"],
            body["indices"],
            body["reason"],
            event_meta(),
            expected_version(),
        )
        return staff_view(result)
