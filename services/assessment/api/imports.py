"""Bulk imports over HTTP: the same functions as ``polku import results|staff-survey``.

Files of up to 1,000 rows are imported within the request; larger ones answer 202 with an
import job polled at ``GET /assessment/imports/{job_id}`` (:mod:`shared.web.jobs`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.assessment.api import survey_schemas as s
from services.assessment.api.access import INSTRUMENT_WRITERS, app_, catch_up_scope, coach_scope
from services.assessment.imports import import_results, import_staff_survey
from shared.imports import ImportResult, Progress, read_table
from shared.web.blueprint import Blueprint
from shared.web.idempotency import leaves_no_trace
from shared.web.jobs import ImportJobOut, import_now_or_later, job_view
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires

blp = Blueprint(
    "assessment_imports",
    __name__,
    url_prefix="/assessment",
    description="Imports of survey-tool CSV exports: every row checked, then all or nothing.",
)
LARGE = "A file of more than 1,000 rows: the import job; poll its Location."
REJECTED = problem_doc(
    "Nothing was imported: ``errors`` lists every problem by row and column (out-of-scale "
    "value, unknown person, a person or cohort enrolment never registered, duplicate, group "
    "below the minimum, bad cell)."
)


def _run(kind: str, function: Any, body: dict[str, Any], **extra: Any) -> Any:
    """The import's result now for a small file; a 202 with a job for a large one."""
    app = app_()
    app.instrument(body["instrument_id"], field="instrument_id")  # unknown: 404, not 422
    table = read_table(body["csv"])
    meta = event_meta()

    def run(progress: Progress | None) -> ImportResult:
        return function(  # type: ignore[no-any-return]
            app,
            table,
            meta,
            instrument_id=body["instrument_id"],
            mapping=body["mapping"],
            dry_run=body["dry_run"],
            progress=progress,
            **extra,
        )

    return import_now_or_later(kind, len(table.rows), run, "/assessment/imports")


@blp.route("/imports/results")
class ResultImports(MethodView):
    @leaves_no_trace  # idempotent by itself; the mapping may name respondents
    @requires(*INSTRUMENT_WRITERS)
    @blp.arguments(s.ImportIn())
    @blp.response(200, s.ImportOut())
    @blp.alt_response(202, schema=ImportJobOut, description=LARGE)
    @blp.alt_response(404, **problem_doc("The instrument does not exist."))
    @blp.alt_response(422, **REJECTED)
    def post(self, body: dict[str, Any]) -> Any:
        """Import assessment results from a CSV export, one result per row.

        ``mapping``: ``columns`` (person, and optionally wave, rater_group, rater, date, cohort,
        follow_up_months, wave_label), ``dimensions`` (column -> dimension key), ``people``
        (respondent identifier -> pseudonymous person id) and optional ``defaults`` (wave,
        rater_group, date, cohort_id). Rows already recorded identically count as unchanged.
        ``dry_run`` checks everything and writes nothing. A person or cohort id that enrolment
        never registered (as far as assessment has followed its events) is a problem of its row.
        """
        catch_up_scope()
        return _run("results", import_results, body, known=coach_scope())


@blp.route("/imports/staff-survey")
class StaffSurveyImports(MethodView):
    @leaves_no_trace  # idempotent by itself; the mapping may name respondents
    @requires(*INSTRUMENT_WRITERS)
    @blp.arguments(s.ImportIn())
    @blp.response(200, s.ImportOut())
    @blp.alt_response(202, schema=ImportJobOut, description=LARGE)
    @blp.alt_response(404, **problem_doc("The instrument does not exist."))
    @blp.alt_response(422, **REJECTED)
    def post(self, body: dict[str, Any]) -> Any:
        """Import staff-survey results, one organisation, department or unit per row.

        ``mapping``: ``columns`` (year, respondents, and organisation, department, unit),
        ``indices`` (column -> index key) and optional ``defaults`` (organisation). A group
        below the instrument's minimum rejects the file: such a result is never stored.
        """
        return _run("staff-survey", import_staff_survey, body)


@blp.route("/imports/<uuid:job_id>")
class ImportJob(MethodView):
    @requires(*INSTRUMENT_WRITERS)
    @blp.response(200, ImportJobOut())
    @blp.alt_response(404, **problem_doc("No such job, or not one you started."))
    def get(self, job_id: UUID) -> dict[str, Any]:
        """An import job (results or staff survey): state (running, succeeded, failed), rows
        checked and done of the total, and in the end the result or every row's problem. Jobs
        are kept in the service's memory (the latest 100); a job is read by whoever started
        it, or by an hr_admin."""
        return job_view(job_id)
