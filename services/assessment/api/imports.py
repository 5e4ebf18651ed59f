"""Bulk imports over HTTP: the same functions as ``polku import results|staff-survey``."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from services.assessment.api import survey_schemas as s
from services.assessment.api.access import INSTRUMENT_WRITERS, app_
from services.assessment.imports import import_results, import_staff_survey
from shared.imports import read_table
from shared.web.idempotency import leaves_no_trace
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires

blp = Blueprint(
    "assessment_imports",
    __name__,
    url_prefix="/assessment",
    description="Imports of survey-tool CSV exports: every row checked, then all or nothing.",
)
REJECTED = problem_doc(
    "Nothing was imported: ``errors`` lists every problem by row and column (out-of-scale "
    "value, unknown person, duplicate, group below the minimum, bad cell)."
)


def _run(function: Any, body: dict[str, Any]) -> dict[str, Any]:
    app_().instrument(body["instrument_id"], field="instrument_id")  # unknown: 404, not 422
    table = read_table(body["csv"])
    result = function(
        app_(),
        table,
        event_meta(),
        instrument_id=body["instrument_id"],
        mapping=body["mapping"],
        dry_run=body["dry_run"],
    )
    return result.as_dict()  # type: ignore[no-any-return]


@blp.route("/imports/results")
class ResultImports(MethodView):
    @leaves_no_trace  # idempotent by itself; the mapping may name respondents
    @requires(*INSTRUMENT_WRITERS)
    @blp.arguments(s.ImportIn())
    @blp.response(200, s.ImportOut())
    @blp.alt_response(404, **problem_doc("The instrument does not exist."))
    @blp.alt_response(422, **REJECTED)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Import assessment results from a CSV export, one result per row.

        ``mapping``: ``columns`` (person, and optionally wave, rater_group, rater, date, cohort,
        follow_up_months, wave_label), ``dimensions`` (column -> dimension key), ``people``
        (respondent identifier -> pseudonymous person id) and optional ``defaults`` (wave,
        rater_group, date, cohort_id). Rows already recorded identically count as unchanged.
        ``dry_run`` checks everything and writes nothing.
        """
        return _run(import_results, body)


@blp.route("/imports/staff-survey")
class StaffSurveyImports(MethodView):
    @leaves_no_trace  # idempotent by itself; the mapping may name respondents
    @requires(*INSTRUMENT_WRITERS)
    @blp.arguments(s.ImportIn())
    @blp.response(200, s.ImportOut())
    @blp.alt_response(404, **problem_doc("The instrument does not exist."))
    @blp.alt_response(422, **REJECTED)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Import staff-survey results, one organisation, department or unit per row.

        ``mapping``: ``columns`` (year, respondents, and organisation, department, unit),
        ``indices`` (column -> index key) and optional ``defaults`` (organisation). A group
        below the instrument's minimum rejects the file: such a result is never stored.
        """
        return _run(import_staff_survey, body)
