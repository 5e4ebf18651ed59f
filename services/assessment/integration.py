"""The pure mappings from assessment domain events to integration events, one per channel.

What stops in both: rater hashes (and so any trace of a rater), the token check (which never
was an event), who submitted a reaction response, and the history kept for audit.
:func:`translate_restricted` passes scores, style categories, answers and comments, which the
tracking views aggregate; it feeds the restricted channel only tracking reads.
:func:`translate` feeds the public channel: the same events with the same ids, but the six
types holding individual values keep only ids, wave, rater group, instrument, cohort, date and
counts (``shared/events/assessment_public.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.assessment.domain.instruments import Instrument
from services.assessment.domain.profiles import StyleProfile
from services.assessment.domain.reactions import ReactionResponse, ReactionSurvey
from services.assessment.domain.results import Result
from services.assessment.domain.staff_survey import StaffSurveyResult
from shared.events import assessment as contract


def _instrument_defined(event: Any) -> dict[str, Any]:
    return {
        "instrument_id": event.originator_id,
        "family_id": event.family_id or event.originator_id,
        "instrument_version": event.instrument_version,
        "name": event.name,
        "kind": event.kind,
        "previous_id": event.previous_id,
        **_definition(event.definition),
    }


def _instrument_revised(event: Any) -> dict[str, Any]:
    return {
        "instrument_id": event.originator_id,
        "name": event.name,
        **_definition(event.definition),
    }


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


def _copy(id_name: str | None, *names: str) -> Callable[[Any], dict[str, Any]]:
    """Data made of the event's own attributes (and its aggregate's id as ``id_name``)."""

    def data(event: Any) -> dict[str, Any]:
        copied = {name: getattr(event, name) for name in names}
        return {id_name: event.originator_id, **copied} if id_name else copied

    return data


_WAVE = ("wave", "follow_up_months", "wave_label", "administered_on")
_RESULT = _copy(
    "result_id", "person_id", "cohort_id", "instrument_id", *_WAVE[:3], "rater_group", *_WAVE[3:],
    "scores",
)  # fmt: skip

Published = dict[type, tuple[str, Callable[[Any], dict[str, Any]]]]
"""Domain event class → (integration type, how its data is made)."""

RESTRICTED: Published = {
    Instrument.Defined: (contract.INSTRUMENT_DEFINED, _instrument_defined),  # type: ignore[attr-defined]
    Instrument.Revised: (contract.INSTRUMENT_REVISED, _instrument_revised),  # type: ignore[attr-defined]
    Instrument.Retired: (contract.INSTRUMENT_RETIRED, _copy("instrument_id", "reason")),  # type: ignore[attr-defined]
    Result.Recorded: (contract.RESULT_RECORDED, _RESULT),  # type: ignore[attr-defined]
    Result.RecordedAgain: (contract.RESULT_RECORDED, _RESULT),  # type: ignore[attr-defined]
    Result.Corrected: (  # type: ignore[attr-defined]
        contract.RESULT_CORRECTED,
        _copy("result_id", "supersedes_version", "administered_on", "scores"),
    ),
    Result.Voided: (contract.RESULT_VOIDED, _copy("result_id", "reason")),  # type: ignore[attr-defined]
    StyleProfile.Recorded: (  # type: ignore[attr-defined]
        contract.STYLE_PROFILE_RECORDED,
        _copy(
            "profile_id",
            "person_id",
            "cohort_id",
            "instrument_id",
            *_WAVE,
            "primary",
            "secondary",
            "scores",
        ),
    ),
    StyleProfile.Corrected: (  # type: ignore[attr-defined]
        contract.STYLE_PROFILE_CORRECTED,
        _copy("profile_id", "primary", "secondary", "scores"),
    ),
    ReactionSurvey.TokensIssued: (  # type: ignore[attr-defined]
        contract.REACTION_TOKENS_ISSUED,
        _copy("survey_id", "instrument_id", "cohort_id", "count"),
    ),
    ReactionSurvey.Closed: (contract.REACTION_SURVEY_CLOSED, _copy("survey_id")),  # type: ignore[attr-defined]
    ReactionResponse.Submitted: (  # type: ignore[attr-defined]
        contract.REACTION_RESPONSE_SUBMITTED,
        # No id of its own: the response's aggregate id would tell responses apart.
        _copy(None, "survey_id", "instrument_id", "cohort_id", "answers", "comments"),
    ),
    StaffSurveyResult.Recorded: (  # type: ignore[attr-defined]
        contract.STAFF_SURVEY_RESULT_RECORDED,
        _copy(
            "result_id",
            "instrument_id",
            "year",
            "level",
            "organisation",
            "department",
            "unit",
            "respondents",
            "indices",
        ),
    ),
    StaffSurveyResult.Corrected: (  # type: ignore[attr-defined]
        contract.STAFF_SURVEY_RESULT_CORRECTED,
        _copy("result_id", "respondents", "indices"),
    ),
}
"""Each published domain event class: its integration type and its data in full."""


def _counted(made: Callable[[Any], dict[str, Any]], **counts: str) -> Callable[[Any], Any]:
    """``made``'s data with each ``count=attribute`` as the size of that attribute's value."""

    def data(event: Any) -> dict[str, Any]:
        return {**made(event), **{name: len(getattr(event, a)) for name, a in counts.items()}}

    return data


_RESULT_PUBLIC = _counted(
    _copy("result_id", "person_id", "cohort_id", "instrument_id", *_WAVE[:3], "rater_group",
          *_WAVE[3:]),
    dimensions_scored="scores",
)  # fmt: skip
_PROFILE_PUBLIC = _copy("profile_id", "person_id", "cohort_id", "instrument_id", *_WAVE)

PUBLIC: Published = {
    **RESTRICTED,
    Result.Recorded: (contract.RESULT_RECORDED, _RESULT_PUBLIC),  # type: ignore[attr-defined]
    Result.RecordedAgain: (contract.RESULT_RECORDED, _RESULT_PUBLIC),  # type: ignore[attr-defined]
    Result.Corrected: (  # type: ignore[attr-defined]
        contract.RESULT_CORRECTED,
        _counted(
            _copy("result_id", "supersedes_version", "administered_on"),
            dimensions_scored="scores",
        ),
    ),
    Result.Voided: (contract.RESULT_VOIDED, _copy("result_id")),  # type: ignore[attr-defined]
    StyleProfile.Recorded: (  # type: ignore[attr-defined]
        contract.STYLE_PROFILE_RECORDED,
        _counted(_PROFILE_PUBLIC, categories_scored="scores"),
    ),
    StyleProfile.Corrected: (  # type: ignore[attr-defined]
        contract.STYLE_PROFILE_CORRECTED,
        _counted(_copy("profile_id"), categories_scored="scores"),
    ),
    ReactionResponse.Submitted: (  # type: ignore[attr-defined]
        contract.REACTION_RESPONSE_SUBMITTED,
        _counted(
            _copy(None, "survey_id", "instrument_id", "cohort_id"),
            items_answered="answers",
            comments_given="comments",
        ),
    ),
}
"""The public channel: :data:`RESTRICTED`, minimised where it carries individual values."""


def _translator(mapping: Published) -> Callable[[Any], tuple[str, dict[str, Any]] | None]:
    def translate(event: Any) -> tuple[str, dict[str, Any]] | None:
        published = mapping.get(type(event))
        if published is None:
            return None
        type_, data = published
        return type_, data(event)

    return translate


translate = _translator(PUBLIC)
"""Domain event → public integration event (``polku.assessment.events``)."""

translate_restricted = _translator(RESTRICTED)
"""Domain event → full integration event (``polku.assessment.restricted``, tracking only)."""
