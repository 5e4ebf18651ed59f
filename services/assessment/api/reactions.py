"""Reaction surveys: issue response tokens, submit anonymous responses, report them, close.

A response is tied to the cohort and instrument, never to a person: the participant's bearer
token admits the request and is then forgotten; the response token is checked against a keyed
marker outside the event store and is never stored. ``Idempotency-Key`` is ignored on
submissions (the idempotency table would remember who sent what); a repeated submission is
refused instead, because its token is spent. Readers see distributions meeting the minimum
group size and detached free text, never a response (see ``domain/reaction_report.py``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.assessment.api import survey_schemas as s
from services.assessment.api.access import (
    INSTRUMENT_WRITERS,
    READERS,
    app_,
    check_cohort_reach,
    check_known,
)
from services.assessment.domain.reactions import ReactionSurvey
from shared.web.blueprint import Blueprint
from shared.web.idempotency import leaves_no_trace
from shared.web.pagination import PageArgs
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.versions import VersionArgs, expected_version

blp = Blueprint(
    "reaction_surveys",
    __name__,
    url_prefix="/assessment",
    description="Anonymous reaction surveys: tokens, responses, and what may be shown of them.",
)
SUBMIT_ENDPOINT = "reaction_surveys.Responses"


def survey_view(survey: ReactionSurvey) -> dict[str, Any]:
    return {
        "id": survey.id,
        "version": survey.version,
        "instrument_id": survey.instrument_id,
        "cohort_id": survey.cohort_id,
        "issued": survey.issued,
        "responses": app_().response_count(survey.id),
        "closed": survey.closed,
        "created_on": survey.created_on,
    }


@blp.route("/reaction-surveys/tokens")
class Tokens(MethodView):
    @leaves_no_trace
    @requires(*INSTRUMENT_WRITERS)
    @blp.arguments(s.TokensIn())
    @blp.response(201, s.TokensOut())
    @blp.alt_response(404, **problem_doc("The instrument does not exist."))
    @blp.alt_response(409, **problem_doc("The survey is closed, or the instrument retired."))
    @blp.alt_response(
        422,
        **problem_doc(
            "The instrument is not a reaction survey, or enrolment has no such cohort (cohort_id)."
        ),
    )
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Issue response tokens for a cohort's survey (opening it the first time).

        The tokens are in this answer only: Polku keeps a keyed marker of each, not the token,
        and records only how many were issued, never to whom. ``Idempotency-Key`` is ignored
        here, because its record would keep the tokens: a retry issues new ones.
        """
        check_known(cohort_id=body["cohort_id"])
        survey, tokens = app_().issue_tokens(
            body["instrument_id"], body["cohort_id"], body["count"], event_meta()
        )
        return {**survey_view(survey), "tokens": tokens}


@blp.route("/reaction-surveys/<uuid:survey_id>")
class SurveyById(MethodView):
    @requires(*READERS)
    @blp.arguments(VersionArgs(), location="query")
    @blp.response(200, s.SurveyOut())
    @blp.alt_response(404, **problem_doc("No such survey (or version), or not one you may reach."))
    def get(self, args: dict[str, Any], survey_id: UUID) -> dict[str, Any]:
        """One survey: tokens issued, responses received, whether closed. A coach reaches only
        the surveys of cohorts they coach."""
        survey = app_().survey(survey_id, version=args.get("version"))
        check_cohort_reach(survey.cohort_id, "survey")
        return survey_view(survey)


@blp.route("/reaction-surveys/<uuid:survey_id>/responses")
class Responses(MethodView):
    @leaves_no_trace
    @requires("participant")
    @blp.arguments(s.ResponseIn())
    @blp.response(201, s.AcceptedOut())
    @blp.alt_response(404, **problem_doc("No such survey, or no such token for it."))
    @blp.alt_response(409, **problem_doc("The token was used already, or the survey closed."))
    @blp.alt_response(422, **problem_doc("An answer is off the scale, missing or unknown."))
    def post(self, body: dict[str, Any], survey_id: UUID) -> dict[str, Any]:
        """Submit an anonymous response with a response token (once per token).

        Nothing recorded names the participant or the token; the answer says only that it was
        accepted. ``Idempotency-Key`` is ignored here: its record would say who sent what.
        """
        app_().submit_reaction(survey_id, body["token"], body["answers"], body["comments"])
        return {"accepted": True, "survey_id": survey_id}


@blp.route("/reaction-surveys/<uuid:survey_id>/summary")
class Report(MethodView):
    @requires(*READERS)
    @blp.response(200, s.ReportOut())
    @blp.alt_response(404, **problem_doc("No such survey, or not one you may reach."))
    def get(self, survey_id: UUID) -> dict[str, Any]:
        """What may be shown of the answers: per item, how many answered, the mean and how
        many gave each value, once at least the instrument's ``min_group_size`` (k) answered.

        Individual responses are never listed: even without a name, a row of answers in
        arrival order can be lined up with whoever was seen answering.
        """
        check_cohort_reach(app_().survey(survey_id).cohort_id, "survey")
        return app_().reaction_report(survey_id)


@blp.route("/reaction-surveys/<uuid:survey_id>/comments")
class Comments(MethodView):
    @requires(*READERS)
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, s.CommentPage())
    @blp.alt_response(404, **problem_doc("No such survey, or not one you may reach."))
    def get(self, args: dict[str, Any], survey_id: UUID) -> dict[str, Any]:
        """The free-text answers, a page at a time, detached from the Likert answers and
        sorted by question and text, shown only from max(k, ``comment_minimum``) responses."""
        check_cohort_reach(app_().survey(survey_id).cohort_id, "survey")
        withheld, page = app_().reaction_comments(survey_id, args["after"], args["limit"])
        return {
            "survey_id": survey_id,
            "comments_shown": withheld is None,
            "comments_suppressed_reason": withheld,
            "items": page.items,
            "next_after": page.next_after,
        }


@blp.route("/reaction-surveys/<uuid:survey_id>/closure")
class Closure(MethodView):
    @requires(*INSTRUMENT_WRITERS)
    @blp.response(201, s.SurveyOut())
    @blp.alt_response(404, **problem_doc("No such survey."))
    @blp.alt_response(409, **problem_doc("Already closed, or If-Match is stale."))
    def post(self, survey_id: UUID) -> dict[str, Any]:
        """Close a survey: no more tokens or responses, and its token markers are destroyed."""
        return survey_view(app_().close_survey(survey_id, event_meta(), expected_version()))
