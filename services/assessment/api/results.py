"""Assessment results: record, correct, void, read, list, and one person's summary.

Individual answers of a multi-rater instrument by anyone but the self are never shown here
(``scores`` is null and ``scores_withheld`` says why): one person's multi-rater answers are
readable only as rater-group means meeting the minimums, through the summary, and only by
hr_admin and that person.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.assessment.api import schemas as s
from services.assessment.api.access import (
    READERS,
    RECORDERS,
    SUMMARY_READERS,
    app_,
    as_page,
    check_coach_may_change,
    check_coach_may_record,
    check_known,
    in_scope,
    instrument_of,
    is_participant,
    named_instruments,
    out_of_scope,
    require_self,
    visible,
)
from services.assessment.domain.results import Result
from services.assessment.domain.waves import Wave
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.versions import VersionArgs, expected_version

blp = Blueprint(
    "results",
    __name__,
    url_prefix="/assessment",
    description="Assessment results by person, wave and rater group.",
)
WITHHELD = (
    "a multi-rater answer is shown only as rater-group means meeting the minimums: "
    "GET /assessment/people/{person_id}/results/{instrument_id}/summary"
)


def result_view(r: Result) -> dict[str, Any]:
    multi_rater = instrument_of(r.instrument_id).kind == "behaviour_assessment"
    withheld = multi_rater and r.rater_group != "self"
    return {
        "id": r.id,
        "version": r.version,
        "person_id": r.person_id,
        "instrument_id": r.instrument_id,
        "cohort_id": r.cohort_id,
        "wave": r.wave,
        "follow_up_months": r.follow_up_months,
        "wave_label": r.wave_label,
        "rater_group": r.rater_group,
        "administered_on": r.administered_on,
        "scores": None if withheld else r.scores,
        "scores_withheld": WITHHELD if withheld else None,
        "corrections": len(r.superseded),
        "voided": r.voided,
        "void_reason": r.void_reason,
        "created_on": r.created_on,
    }


def wave_of(body: dict[str, Any]) -> Wave:
    return Wave.of(body["wave"], body.get("follow_up_months"), body.get("wave_label"))


@blp.route("/results")
class Results(MethodView):
    @requires(*RECORDERS)
    @blp.arguments(s.ResultIn())
    @blp.response(201, s.ResultOut())
    @blp.alt_response(
        404,
        **problem_doc(
            "The instrument does not exist; or, to a coach, the cohort is not one they coach "
            "or the person was never enrolled in it."
        ),
    )
    @blp.alt_response(409, **problem_doc("This rater already has a result for this wave."))
    @blp.alt_response(
        422,
        **problem_doc(
            "A score is off the scale, missing or unknown; a coach gave no cohort; or "
            "enrolment has no such person (person_id) or cohort (cohort_id)."
        ),
    )
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record one rater's scores for a person, instrument and wave.

        One result per (person, instrument, wave, rater): a second is a 409 (correct the first
        instead). ``rater_id`` is kept only as a keyed hash; for the self it defaults to the
        person. Every dimension needs a score unless the instrument allows partial answers.
        A coach records only for a person enrolled in a cohort they coach, naming that cohort.
        """
        check_coach_may_record(body["person_id"], body["cohort_id"])
        check_known(body["person_id"], body["cohort_id"])
        result = app_().record_result(
            body["person_id"],
            body["instrument_id"],
            wave_of(body),
            body["rater_group"],
            body["rater_id"],
            body["administered_on"],
            body["scores"],
            event_meta(),
            cohort_id=body["cohort_id"],
        )
        return result_view(result)

    @requires(*READERS, "participant")
    @blp.arguments(s.ResultFilter(), location="query")
    @blp.response(200, s.ResultPage())
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List results in the order first recorded, by person, cohort, instrument or wave.

        Only what the caller may reach is listed: a participant their own results of named
        instruments; a coach results of people enrolled in a cohort they coach, tied to such
        a cohort or to none. A page may therefore hold fewer than ``limit`` items.
        """
        page = app_().results(
            args["after"],
            args["limit"],
            person_id=args.get("person_id"),
            cohort_id=args.get("cohort_id"),
            instrument_id=args.get("instrument_id"),
            wave=args.get("wave"),
            instrument_ids=named_instruments() if is_participant() else None,
            visible=visible(),
        )
        return as_page(page, result_view)


@blp.route("/results/<uuid:result_id>")
class ResultById(MethodView):
    @requires(*READERS, "participant")
    @blp.arguments(VersionArgs(), location="query")
    @blp.response(200, s.ResultOut())
    @blp.alt_response(404, **problem_doc("No such result (or version), or not one you may reach."))
    def get(self, args: dict[str, Any], result_id: UUID) -> dict[str, Any]:
        """One result, as it is or as it was at ``?version=`` (a correction's predecessor)."""
        result = app_().result(result_id, version=args.get("version"))
        if not in_scope(result.person_id, result.cohort_id) or (
            is_participant() and result.instrument_id not in named_instruments()
        ):
            out_of_scope("result")
        return result_view(result)


@blp.route("/results/<uuid:result_id>/correction")
class ResultCorrection(MethodView):
    @requires(*RECORDERS)
    @blp.arguments(s.CorrectionIn())
    @blp.response(201, s.ResultOut())
    @blp.alt_response(404, **problem_doc("No such result, or not one you may reach."))
    @blp.alt_response(409, **problem_doc("The result is void, or If-Match is stale."))
    @blp.alt_response(422, **problem_doc("A score is off the scale, or no reason given."))
    def post(self, body: dict[str, Any], result_id: UUID) -> dict[str, Any]:
        """Correct a result: the new scores supersede the old, which stay in its history.

        A coach corrects only results they could record: in a cohort they coach, of a person
        enrolled in it."""
        check_coach_may_change(app_().result, result_id, "result")
        result = app_().correct_result(
            result_id,
            body["scores"],
            body["administered_on"],
            body["reason"],
            event_meta(),
            expected_version(),
        )
        return result_view(result)


@blp.route("/results/<uuid:result_id>/void")
class ResultVoid(MethodView):
    @requires(*RECORDERS)
    @blp.arguments(s.VoidIn())
    @blp.response(201, s.ResultOut())
    @blp.alt_response(404, **problem_doc("No such result, or not one you may reach."))
    @blp.alt_response(409, **problem_doc("Already void, or If-Match is stale."))
    def post(self, body: dict[str, Any], result_id: UUID) -> dict[str, Any]:
        """Void a result, with a reason. It stays for audit; its slot may be recorded again.

        A coach voids only results they could record."""
        check_coach_may_change(app_().result, result_id, "result")
        result = app_().void_result(result_id, body["reason"], event_meta(), expected_version())
        return result_view(result)


@blp.route("/people/<uuid:person_id>/results/<uuid:instrument_id>/summary")
class ResultSummary(MethodView):
    @requires(*SUMMARY_READERS)
    @blp.response(200, s.SummaryOut())
    @blp.alt_response(404, **problem_doc("No such instrument, or (to a participant) person."))
    @blp.alt_response(422, **problem_doc("The instrument has no person results."))
    def get(self, person_id: UUID, instrument_id: UUID) -> dict[str, Any]:
        """Rater-group means per wave for one person: hr_admin and that person only.

        A rater group below its minimum (self 1, manager 1, peers 3, direct reports 3, coach 1
        unless the instrument says otherwise) is listed as suppressed, without count or means.
        """
        require_self(person_id, "summary")
        return app_().summary(person_id, instrument_id)
