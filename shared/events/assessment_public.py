"""The public (minimised) forms of the assessment types that carry individual values.

The public channel (``polku.assessment.events``, ``GET /assessment/events``) announces that a
result, style profile or reaction response exists: its ids, wave, rater group, instrument,
cohort, date and counts. No score, style category, answer, comment or void reason: a peer group
of two, or a single respondent, would be read off the event otherwise, which the aggregate-only
views withhold. Each such type is version 2 here; its version 1 (full) form is published only on
the restricted channel, which tracking alone reads (see ``docs/privacy.md`` section 1).
"""

from __future__ import annotations

from marshmallow import fields, validate

from shared.events import assessment as full
from shared.events.registry import Registry


def _count(description: str) -> fields.Integer:
    return fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0),
        metadata={"description": description},
    )


class AssessmentResultRecordedV2(full._Wave):
    result_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    cohort_id = fields.UUID(required=True, allow_none=True)
    instrument_id = fields.UUID(required=True)
    rater_group = fields.String(required=True, validate=validate.OneOf(full.RATER_GROUPS))
    administered_on = fields.Date(required=True)
    dimensions_scored = _count("How many dimensions the rater scored (not the scores).")


class AssessmentResultCorrectedV2(full._Strict):
    result_id = fields.UUID(required=True)
    supersedes_version = fields.Integer(
        required=True, strict=True, metadata={"description": "The result version replaced."}
    )
    administered_on = fields.Date(required=True)
    dimensions_scored = _count("How many dimensions the corrected result scores.")


class AssessmentResultVoidedV2(full._Strict):
    # The reason is free text about one rating: it stays on the restricted channel.
    result_id = fields.UUID(required=True)


class StyleProfileRecordedV2(full._Wave):
    profile_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    cohort_id = fields.UUID(required=True, allow_none=True)
    instrument_id = fields.UUID(required=True)
    administered_on = fields.Date(required=True)
    categories_scored = _count("How many style categories were scored (not which led).")


class StyleProfileCorrectedV2(full._Strict):
    profile_id = fields.UUID(required=True)
    categories_scored = _count("How many style categories the corrected profile scores.")


class ReactionResponseSubmittedV2(full._Strict):
    survey_id = fields.UUID(required=True)
    instrument_id = fields.UUID(required=True)
    cohort_id = fields.UUID(required=True)
    items_answered = _count("How many items the response answered (not the answers).")
    comments_given = _count("How many free-text questions it answered (not the text).")


MINIMISED: dict[str, full.Replacement] = {
    full.RESULT_RECORDED: (
        2,
        AssessmentResultRecordedV2,
        "A rater group's result for a person, by wave: no scores.",
    ),
    full.RESULT_CORRECTED: (2, AssessmentResultCorrectedV2, "A result was corrected: no scores."),
    full.RESULT_VOIDED: (2, AssessmentResultVoidedV2, "A result was voided: no reason."),
    full.STYLE_PROFILE_RECORDED: (
        2,
        StyleProfileRecordedV2,
        "A person's style profile was recorded, by wave: no categories or scores.",
    ),
    full.STYLE_PROFILE_CORRECTED: (
        2,
        StyleProfileCorrectedV2,
        "A style profile was corrected: no categories or scores.",
    ),
    full.REACTION_RESPONSE_SUBMITTED: (
        2,
        ReactionResponseSubmittedV2,
        "An anonymous reaction response was submitted: counts only, no answers or comments.",
    ),
}
"""Each type that carries individual values in full: its public version, schema, description."""

SENSITIVE = frozenset(MINIMISED)


def register(registry: Registry) -> None:
    """Every assessment type as the public channel carries it."""
    full.register(registry, MINIMISED)
