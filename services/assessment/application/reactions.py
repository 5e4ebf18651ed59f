"""Reaction-survey commands: issue response tokens, take anonymous responses, close, report.

The token check lives in the key store, outside the event store (see
:mod:`services.assessment.domain.reactions` for why and for the residual risk). A submission
first spends the token there, then records the response; if recording fails the token is given
back, so a response is never recorded twice and a failure never burns a token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from services.assessment.application.base import AssessmentBase, Page
from services.assessment.domain import Meta
from services.assessment.domain.reaction_report import (
    answer_report,
    comment_threshold,
    detached_comments,
)
from services.assessment.domain.reactions import (
    ReactionResponse,
    ReactionSurvey,
    SurveyClosed,
    TokenAlreadyUsed,
    UnknownToken,
    anonymous_meta,
    check_answers,
    marker,
    new_token,
)

SUBMITTED = "polku.assessment:ReactionResponse.Submitted"


class ReactionCommands(AssessmentBase):
    def issue_tokens(
        self, instrument_id: UUID, cohort_id: UUID, count: int, meta: Meta
    ) -> tuple[ReactionSurvey, list[str]]:
        """Opens the survey if need be and returns ``count`` new tokens, which are kept nowhere."""

        def attempt() -> tuple[ReactionSurvey, list[str]]:
            instrument = self.instrument(instrument_id, field="instrument_id")
            instrument.check_kind("reaction_survey")
            instrument.check_not_retired()
            survey_id = ReactionSurvey.create_id(instrument_id, cohort_id)
            survey = self.existing(survey_id, ReactionSurvey) or ReactionSurvey(
                instrument_id, cohort_id, meta
            )
            survey.issue(count, meta)
            instrument.put_in_use(meta)
            pepper = self.keys.pepper(str(survey_id), create=True)
            assert pepper is not None
            tokens = [new_token() for _ in range(count)]
            markers = [marker(pepper, token) for token in tokens]
            self.keys.add_markers(str(survey_id), markers)
            try:
                self.save_all(survey, instrument)
            except BaseException:
                self.keys.remove_markers(markers)
                raise
            return survey, tokens

        return self.retrying(attempt, key=instrument_id)

    def submit_reaction(
        self,
        survey_id: UUID,
        token: str,
        answers: Mapping[str, Any],
        comments: Mapping[str, str],
    ) -> ReactionResponse:
        """Records an anonymous response; takes no meta, because it must record nobody."""
        survey: ReactionSurvey = self.get(survey_id, ReactionSurvey, "reaction survey")
        survey.check_open()
        instrument = self.instrument(survey.instrument_id)
        checked, kept = check_answers(
            instrument.scale,
            instrument.dimensions,
            instrument.free_text_questions,
            answers,
            comments,
            instrument.allows_partial,
        )
        pepper = self.keys.pepper(str(survey_id))
        if pepper is None:  # closed (and shredded) since it was loaded
            raise SurveyClosed(f"reaction survey {survey_id} is closed")
        spent = marker(pepper, token)
        outcome = self.keys.spend(str(survey_id), spent)
        if outcome == "unknown":
            raise UnknownToken("no such response token for this survey", field="token")
        if outcome == "used":
            raise TokenAlreadyUsed("this response token has been used already", field="token")
        response = ReactionResponse(
            survey_id, survey.instrument_id, survey.cohort_id, checked, kept, anonymous_meta()
        )
        try:
            self.save_all(response)
        except BaseException:
            self.keys.unspend(str(survey_id), spent)
            raise
        return response

    def close_survey(
        self, survey_id: UUID, meta: Meta, expected_version: int | None = None
    ) -> ReactionSurvey:
        def attempt() -> ReactionSurvey:
            survey: ReactionSurvey = self.get(
                survey_id, ReactionSurvey, "reaction survey", expected_version=expected_version
            )
            survey.close(meta)
            self.save_all(survey)
            return survey

        closed = self.retrying(attempt, key=survey_id)
        self.keys.shred(str(survey_id))
        return closed

    def survey(self, survey_id: UUID, version: int | None = None) -> ReactionSurvey:
        return self.get(survey_id, ReactionSurvey, "reaction survey", version=version)  # type: ignore[no-any-return]

    def responses(self, survey_id: UUID, after: int, limit: int) -> Page:
        return self.scan(SUBMITTED, after, limit, lambda e: e.survey_id == survey_id)

    def survey_responses(self, survey_id: UUID) -> list[ReactionResponse]:
        """Every response of one survey (a cohort's worth: tens, not thousands)."""
        found: list[ReactionResponse] = []
        after = 0
        while True:
            page = self.responses(survey_id, after, 500)
            found += page.items
            if page.next_after is None:
                return found
            after = page.next_after

    def reaction_report(self, survey_id: UUID) -> dict[str, Any]:
        """What readers may see of a survey's answers: distributions meeting k, no rows."""
        survey = self.survey(survey_id)
        instrument = self.instrument(survey.instrument_id)
        responses = self.survey_responses(survey_id)
        needed = comment_threshold(instrument.min_group_size, instrument.comment_minimum)
        shown = len(responses) >= needed
        return {
            "survey_id": survey_id,
            "instrument_id": survey.instrument_id,
            "cohort_id": survey.cohort_id,
            "responses": len(responses),
            "minimum": instrument.min_group_size,
            **answer_report(
                instrument.dimensions, [r.answers for r in responses], instrument.min_group_size
            ),
            "comments_shown": shown,
            "comments_suppressed_reason": None
            if shown
            else f"free text is shown from {needed} responses",
        }

    def reaction_comments(self, survey_id: UUID, after: int, limit: int) -> tuple[str | None, Page]:
        """A page of free-text answers detached from their responses (``after`` is an offset),
        or, while the survey is below its comment threshold, why none are shown."""
        survey = self.survey(survey_id)
        instrument = self.instrument(survey.instrument_id)
        responses = self.survey_responses(survey_id)
        needed = comment_threshold(instrument.min_group_size, instrument.comment_minimum)
        if len(responses) < needed:
            return f"free text is shown from {needed} responses", Page([], None)
        comments = detached_comments(
            instrument.free_text_questions, [r.comments for r in responses]
        )
        more = after + limit < len(comments)
        return None, Page(comments[after : after + limit], after + limit if more else None)

    def response_count(self, survey_id: UUID) -> int:
        count, after = 0, 0
        while True:
            page = self.responses(survey_id, after, 500)
            count += len(page.items)
            if page.next_after is None:
                return count
            after = page.next_after
