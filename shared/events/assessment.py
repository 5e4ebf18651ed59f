"""Integration events of the assessment service, in their full (restricted-channel) form.

These schemas carry scores, style categories, answers and comments, which the tracking views
aggregate. The six types holding such individual values are published in full only on the
restricted channel (``polku.assessment.restricted``, ``GET /assessment/restricted/events``),
which only tracking may read; the public channel carries their minimised version 2 forms from
:mod:`shared.events.assessment_public` instead.

Neither form carries a rater id (nor its hash), a response token, or who answered a reaction
survey. Instrument events carry
the whole definition (dimensions with reverse scoring, scale, privacy policy, minimum group
sizes, comment minimum), so a consumer can score and suppress without asking the service.
``instrument_version`` is the questionnaire's edition; the envelope's ``sequence`` is the
aggregate's version, as for every event.
"""

from __future__ import annotations

from collections.abc import Mapping

from marshmallow import Schema, fields, validate

from shared.events.registry import Registry

PREFIX = "fi.polku.assessment"
INSTRUMENT_DEFINED = f"{PREFIX}.InstrumentDefined"
INSTRUMENT_REVISED = f"{PREFIX}.InstrumentRevised"
INSTRUMENT_RETIRED = f"{PREFIX}.InstrumentRetired"
RESULT_RECORDED = f"{PREFIX}.AssessmentResultRecorded"
RESULT_CORRECTED = f"{PREFIX}.AssessmentResultCorrected"
RESULT_VOIDED = f"{PREFIX}.AssessmentResultVoided"
STYLE_PROFILE_RECORDED = f"{PREFIX}.StyleProfileRecorded"
STYLE_PROFILE_CORRECTED = f"{PREFIX}.StyleProfileCorrected"
REACTION_TOKENS_ISSUED = f"{PREFIX}.ReactionTokensIssued"
REACTION_SURVEY_CLOSED = f"{PREFIX}.ReactionSurveyClosed"
REACTION_RESPONSE_SUBMITTED = f"{PREFIX}.ReactionResponseSubmitted"
STAFF_SURVEY_RESULT_RECORDED = f"{PREFIX}.StaffSurveyResultRecorded"
STAFF_SURVEY_RESULT_CORRECTED = f"{PREFIX}.StaffSurveyResultCorrected"

KINDS = (
    "behaviour_assessment",
    "style_analysis",
    "self_assessment",
    "reaction_survey",
    "staff_survey",
)
WAVES = ("baseline", "midpoint", "post", "follow_up", "custom")
RATER_GROUPS = ("self", "manager", "peer", "direct_report", "coach")


class _Strict(Schema):
    """Data schemas reject unknown keys: a leaked rater id or token fails validation."""


def _scores() -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.Float(), required=True)


class DimensionV1(_Strict):
    """One dimension the instrument measures; a reverse-scored one counts down the scale."""

    key = fields.String(required=True)
    label = fields.String(required=True)
    reverse_scored = fields.Boolean(required=True)


class ScaleV1(_Strict):
    """The answer scale: its range, step and the label of each point."""

    min = fields.Float(required=True)
    max = fields.Float(required=True)
    step = fields.Float(required=True)
    labels = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class QuestionV1(_Strict):
    """A free-text question of the instrument, by key and label."""

    key = fields.String(required=True)
    label = fields.String(required=True)


class _Definition(_Strict):
    dimensions = fields.List(fields.Nested(DimensionV1), required=True)
    scale = fields.Nested(ScaleV1, required=True)
    privacy = fields.String(
        required=True, validate=validate.OneOf(("named", "pseudonymous", "anonymous"))
    )
    min_group_size = fields.Integer(required=True, strict=True)
    rater_group_minimums = fields.Dict(
        keys=fields.String(validate=validate.OneOf(RATER_GROUPS)),
        values=fields.Integer(strict=True),
        required=True,
    )
    allows_partial = fields.Boolean(required=True)
    style_categories = fields.List(fields.String(), required=True)
    free_text_questions = fields.List(fields.Nested(QuestionV1), required=True)
    comment_minimum = fields.Integer(
        required=True,
        strict=True,
        metadata={"description": "Free-text answers are shown only from this many responses."},
    )


class InstrumentDefinedV1(_Definition):
    instrument_id = fields.UUID(required=True)
    family_id = fields.UUID(required=True, metadata={"description": "The first version's id."})
    previous_id = fields.UUID(required=True, allow_none=True)
    instrument_version = fields.Integer(required=True, strict=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))


class InstrumentRevisedV1(_Definition):
    instrument_id = fields.UUID(required=True)
    name = fields.String(required=True)


class InstrumentRetiredV1(_Strict):
    instrument_id = fields.UUID(required=True)
    reason = fields.String(required=True)


class _Wave(_Strict):
    wave = fields.String(required=True, validate=validate.OneOf(WAVES))
    follow_up_months = fields.Integer(required=True, allow_none=True, strict=True)
    wave_label = fields.String(required=True, allow_none=True)


class AssessmentResultRecordedV1(_Wave):
    result_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    cohort_id = fields.UUID(required=True, allow_none=True)
    instrument_id = fields.UUID(required=True)
    rater_group = fields.String(required=True, validate=validate.OneOf(RATER_GROUPS))
    administered_on = fields.Date(required=True)
    scores = _scores()


class AssessmentResultCorrectedV1(_Strict):
    result_id = fields.UUID(required=True)
    supersedes_version = fields.Integer(
        required=True, strict=True, metadata={"description": "The result version replaced."}
    )
    administered_on = fields.Date(required=True)
    scores = _scores()


class AssessmentResultVoidedV1(_Strict):
    result_id = fields.UUID(required=True)
    reason = fields.String(required=True)


class StyleProfileRecordedV1(_Wave):
    profile_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    cohort_id = fields.UUID(required=True, allow_none=True)
    instrument_id = fields.UUID(required=True)
    administered_on = fields.Date(required=True)
    primary = fields.String(required=True)
    secondary = fields.String(required=True, allow_none=True)
    scores = _scores()


class StyleProfileCorrectedV1(_Strict):
    profile_id = fields.UUID(required=True)
    primary = fields.String(required=True)
    secondary = fields.String(required=True, allow_none=True)
    scores = _scores()


class ReactionTokensIssuedV1(_Strict):
    survey_id = fields.UUID(required=True)
    instrument_id = fields.UUID(required=True)
    cohort_id = fields.UUID(required=True)
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class ReactionSurveyClosedV1(_Strict):
    survey_id = fields.UUID(required=True)


class ReactionResponseSubmittedV1(_Strict):
    survey_id = fields.UUID(required=True)
    instrument_id = fields.UUID(required=True)
    cohort_id = fields.UUID(required=True)
    answers = _scores()
    comments = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class StaffSurveyResultRecordedV1(_Strict):
    result_id = fields.UUID(required=True)
    instrument_id = fields.UUID(required=True)
    year = fields.Integer(required=True, strict=True)
    level = fields.String(
        required=True, validate=validate.OneOf(("organisation", "department", "unit"))
    )
    organisation = fields.String(required=True)
    department = fields.String(required=True, allow_none=True)
    unit = fields.String(required=True, allow_none=True)
    respondents = fields.Integer(required=True, strict=True)
    indices = _scores()


class StaffSurveyResultCorrectedV1(_Strict):
    result_id = fields.UUID(required=True)
    respondents = fields.Integer(required=True, strict=True)
    indices = _scores()


Replacement = tuple[int, type[Schema], str]
"""A type's (version, schema, description) registered in place of its full form."""


def register(registry: Registry, replacements: Mapping[str, Replacement] | None = None) -> None:
    """Registers every type in its full form, or as ``replacements`` says for those it names."""
    replacements = replacements or {}
    for type_, schema, description in (
        (INSTRUMENT_DEFINED, InstrumentDefinedV1, "An instrument (or a new version) was defined."),
        (INSTRUMENT_REVISED, InstrumentRevisedV1, "An instrument not yet in use was revised."),
        (INSTRUMENT_RETIRED, InstrumentRetiredV1, "An instrument was retired."),
        (RESULT_RECORDED, AssessmentResultRecordedV1, "A rater's scores for a person, by wave."),
        (RESULT_CORRECTED, AssessmentResultCorrectedV1, "A result's scores were corrected."),
        (RESULT_VOIDED, AssessmentResultVoidedV1, "A result was voided."),
        (STYLE_PROFILE_RECORDED, StyleProfileRecordedV1, "A person's style profile, by wave."),
        (STYLE_PROFILE_CORRECTED, StyleProfileCorrectedV1, "A style profile was corrected."),
        (REACTION_TOKENS_ISSUED, ReactionTokensIssuedV1, "Response tokens were issued."),
        (REACTION_SURVEY_CLOSED, ReactionSurveyClosedV1, "A reaction survey was closed."),
        (
            REACTION_RESPONSE_SUBMITTED,
            ReactionResponseSubmittedV1,
            "An anonymous reaction response: a cohort's, never a person's.",
        ),
        (
            STAFF_SURVEY_RESULT_RECORDED,
            StaffSurveyResultRecordedV1,
            "Yearly staff-survey indices of an organisation, department or unit.",
        ),
        (
            STAFF_SURVEY_RESULT_CORRECTED,
            StaffSurveyResultCorrectedV1,
            "A staff-survey result was corrected.",
        ),
    ):
        registry.register(type_, *replacements.get(type_, (1, schema, description)))
