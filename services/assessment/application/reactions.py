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

    def response_count(self, survey_id: UUID) -> int:
        count, after = 0, 0
        while True:
            page = self.responses(survey_id, after, 500)
            count += len(page.items)
            if page.next_after is None:
                return count
            after = page.next_after
