"""The pure mapping from assessment domain events to public integration events.

What stops here: rater hashes (and so any trace of a rater), the token check (which never was
an event), who submitted a reaction response, and the history kept for audit. Scores, waves,
rater groups and cohort ids pass, as the tracking service needs them.
"""

from __future__ import annotations

from typing import Any

from services.assessment.domain.instruments import Instrument
from services.assessment.domain.profiles import StyleProfile
from services.assessment.domain.reactions import ReactionResponse, ReactionSurvey
from services.assessment.domain.results import Result
from services.assessment.domain.staff_survey import StaffSurveyResult
from shared.events import assessment as contract


def _instrument(event: Any, name: str, kind: str, version: int, family: Any) -> dict[str, Any]:
    return {
        "instrument_id": event.originator_id,
        "family_id": family,
        "instrument_version": version,
        "name": name,
        "kind": kind,
        **_definition(event.definition),
    }


def translate(event: Any) -> tuple[str, dict[str, Any]] | None:
    if isinstance(event, Instrument.Defined):  # type: ignore[attr-defined]
        family = event.family_id or event.originator_id
        data = _instrument(event, event.name, event.kind, event.instrument_version, family)
        return contract.INSTRUMENT_DEFINED, data | {"previous_id": event.previous_id}
    if isinstance(event, Instrument.Revised):  # type: ignore[attr-defined]
        return contract.INSTRUMENT_REVISED, {
            "instrument_id": event.originator_id,
            "name": event.name,
            **_definition(event.definition),
        }
    if isinstance(event, Instrument.Retired):  # type: ignore[attr-defined]
        return contract.INSTRUMENT_RETIRED, {
            "instrument_id": event.originator_id,
            "reason": event.reason,
        }
    if isinstance(event, Result.Recorded | Result.RecordedAgain):  # type: ignore[attr-defined]
        return _result(event)
    if isinstance(event, Result.Corrected):  # type: ignore[attr-defined]
        return contract.RESULT_CORRECTED, {
            "result_id": event.originator_id,
            "supersedes_version": event.supersedes_version,
            "administered_on": event.administered_on,
            "scores": event.scores,
        }
    if isinstance(event, Result.Voided):  # type: ignore[attr-defined]
        return contract.RESULT_VOIDED, {"result_id": event.originator_id, "reason": event.reason}
    if isinstance(event, StyleProfile.Recorded):  # type: ignore[attr-defined]
        return contract.STYLE_PROFILE_RECORDED, {
            "profile_id": event.originator_id,
            "person_id": event.person_id,
            "cohort_id": event.cohort_id,
            "instrument_id": event.instrument_id,
            "wave": event.wave,
            "follow_up_months": event.follow_up_months,
            "wave_label": event.wave_label,
            "administered_on": event.administered_on,
            "primary": event.primary,
            "secondary": event.secondary,
            "scores": event.scores,
        }
    if isinstance(event, StyleProfile.Corrected):  # type: ignore[attr-defined]
        return contract.STYLE_PROFILE_CORRECTED, {
            "profile_id": event.originator_id,
            "primary": event.primary,
            "secondary": event.secondary,
            "scores": event.scores,
        }
    if isinstance(event, ReactionSurvey.TokensIssued):  # type: ignore[attr-defined]
        return contract.REACTION_TOKENS_ISSUED, {
            "survey_id": event.originator_id,
            "instrument_id": event.instrument_id,
            "cohort_id": event.cohort_id,
            "count": event.count,
        }
    if isinstance(event, ReactionSurvey.Closed):  # type: ignore[attr-defined]
        return contract.REACTION_SURVEY_CLOSED, {"survey_id": event.originator_id}
    if isinstance(event, ReactionResponse.Submitted):  # type: ignore[attr-defined]
        return contract.REACTION_RESPONSE_SUBMITTED, {
            "survey_id": event.survey_id,
            "instrument_id": event.instrument_id,
            "cohort_id": event.cohort_id,
            "answers": event.answers,
            "comments": event.comments,
        }
    if isinstance(event, StaffSurveyResult.Recorded):  # type: ignore[attr-defined]
        return contract.STAFF_SURVEY_RESULT_RECORDED, {
            "result_id": event.originator_id,
            "instrument_id": event.instrument_id,
            "year": event.year,
            "level": event.level,
            "organisation": event.organisation,
            "department": event.department,
            "unit": event.unit,
            "respondents": event.respondents,
            "indices": event.indices,
        }
    if isinstance(event, StaffSurveyResult.Corrected):  # type: ignore[attr-defined]
        return contract.STAFF_SURVEY_RESULT_CORRECTED, {
            "result_id": event.originator_id,
            "respondents": event.respondents,
            "indices": event.indices,
        }
    return None


def _definition(definition: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "dimensions",
        "scale",
        "privacy",
        "min_group_size",
        "rater_group_minimums",
        "allows_partial",
        "style_categories",
        "free_text_questions",
        "comment_minimum",
    )
    return {key: definition[key] for key in keys}


def _result(event: Any) -> tuple[str, dict[str, Any]]:
    return contract.RESULT_RECORDED, {
        "result_id": event.originator_id,
        "person_id": event.person_id,
        "cohort_id": event.cohort_id,
        "instrument_id": event.instrument_id,
        "wave": event.wave,
        "follow_up_months": event.follow_up_months,
        "wave_label": event.wave_label,
        "rater_group": event.rater_group,
        "administered_on": event.administered_on,
        "scores": event.scores,
    }
