"""HTTP schemas of instruments, results and style profiles (the edge; the domain never sees them).

Structural checks (types, lengths, clean text) happen here; the rules of the domain (scales,
steps, categories, frozen definitions) are the domain's, and come back as 422/409 naming the
field just the same.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from services.assessment.domain.instruments import KINDS, PRIVACY, RATER_GROUPS
from services.assessment.domain.waves import WAVES, Wave, WaveInvalid
from shared.web.pagination import PageArgs, PageSchema
from shared.web.validation import FreeText, PlausibleDate, SingleLine

Text = [validate.Length(min=1, max=200), SingleLine]
Reason = [validate.Length(min=1, max=2000), FreeText]


class Number(fields.Float):
    """A JSON number: ``"3"`` is refused, not read as 3, so a survey tool that quotes its
    numbers is told so instead of having them silently reinterpreted."""

    def _validated(self, value: Any) -> float:
        if isinstance(value, str | bytes):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


def _number(**kwargs: object) -> fields.Float:
    return Number(allow_nan=False, validate=validate.Range(min=-1e9, max=1e9), **kwargs)  # type: ignore[arg-type]


def _scores(**kwargs: object) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=63)),
        values=_number(),
        validate=validate.Length(max=500),
        **kwargs,  # type: ignore[arg-type]
    )


class DimensionIn(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=63))
    label = fields.String(required=True, validate=Text)
    reverse_scored = fields.Boolean(load_default=False)


class QuestionIn(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=63))
    label = fields.String(required=True, validate=[validate.Length(min=1, max=500), FreeText])


class ScaleIn(Schema):
    min = _number(required=True)
    max = _number(required=True)
    step = _number(load_default=1)
    labels = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=30)),
        values=fields.String(validate=Text),
        load_default={},
    )


class DefinitionIn(Schema):
    """Every part of a definition; what is left out keeps its default (or, for a revision or a
    new version, its current value)."""

    dimensions = fields.List(fields.Nested(DimensionIn), validate=validate.Length(max=200))
    scale = fields.Nested(ScaleIn)
    privacy = fields.String(validate=validate.OneOf(PRIVACY))
    min_group_size = fields.Integer(strict=True, metadata={"description": "k; default 5."})
    rater_group_minimums = fields.Dict(
        keys=fields.String(validate=validate.OneOf(RATER_GROUPS)),
        values=fields.Integer(strict=True),
        metadata={"description": "Defaults: self 1, manager 1, peer 3, direct_report 3, coach 1."},
    )
    allows_partial = fields.Boolean()
    style_categories = fields.List(fields.String(validate=Text), validate=validate.Length(max=50))
    free_text_questions = fields.List(fields.Nested(QuestionIn), validate=validate.Length(max=50))
    comment_minimum = fields.Integer(
        strict=True, metadata={"description": "Free text is shown from this many responses."}
    )


class InstrumentIn(DefinitionIn):
    name = fields.String(required=True, validate=Text)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    scale = fields.Nested(ScaleIn, required=True)


class InstrumentChange(DefinitionIn):
    name = fields.String(validate=Text)


class RetirementIn(Schema):
    reason = fields.String(required=True, validate=Reason)


class DimensionOut(Schema):
    key = fields.String()
    label = fields.String()
    reverse_scored = fields.Boolean()


class InstrumentOut(Schema):
    id = fields.UUID()
    version = fields.Integer(metadata={"description": "The aggregate's version (If-Match)."})
    name = fields.String()
    kind = fields.String()
    instrument_version = fields.Integer(metadata={"description": "The questionnaire's edition."})
    family_id = fields.UUID(metadata={"description": "The id of the family's first version."})
    previous_id = fields.UUID(allow_none=True)
    superseded_by = fields.UUID(allow_none=True)
    dimensions = fields.List(fields.Nested(DimensionOut))
    scale = fields.Dict()
    privacy = fields.String()
    min_group_size = fields.Integer()
    rater_group_minimums = fields.Dict(keys=fields.String(), values=fields.Integer())
    allows_partial = fields.Boolean()
    style_categories = fields.List(fields.String())
    free_text_questions = fields.List(fields.Dict())
    comment_minimum = fields.Integer()
    in_use = fields.Boolean(metadata={"description": "Answers exist: the definition is frozen."})
    retired = fields.Boolean()
    retirement_reason = fields.String(allow_none=True)
    created_on = fields.AwareDateTime(format="iso")


class InstrumentPage(PageSchema):
    items = fields.List(fields.Nested(InstrumentOut))


class InstrumentFilter(PageArgs):
    kind = fields.String(validate=validate.OneOf(KINDS))
    family_id = fields.UUID()


class WaveIn(Schema):
    wave = fields.String(required=True, validate=validate.OneOf(WAVES))
    follow_up_months = fields.Integer(strict=True, allow_none=True, load_default=None)
    wave_label = fields.String(
        allow_none=True, load_default=None, validate=[validate.Length(min=1, max=100), SingleLine]
    )


class ResultIn(WaveIn):
    person_id = fields.UUID(required=True, metadata={"description": "The pseudonymous id."})
    instrument_id = fields.UUID(required=True)
    cohort_id = fields.UUID(allow_none=True, load_default=None)
    rater_group = fields.String(required=True, validate=validate.OneOf(RATER_GROUPS))
    rater_id = fields.String(
        allow_none=True,
        load_default=None,
        validate=[validate.Length(min=1, max=200), SingleLine],
        metadata={
            "description": "Who rated (any stable id); stored only as a keyed hash. "
            "Defaults to the person for the self."
        },
    )
    administered_on = PlausibleDate(required=True)
    scores = _scores(required=True)


class CorrectionIn(Schema):
    scores = _scores(required=True)
    administered_on = PlausibleDate(allow_none=True, load_default=None)
    reason = fields.String(required=True, validate=Reason)


class VoidIn(Schema):
    reason = fields.String(required=True, validate=Reason)


class ResultOut(Schema):
    id = fields.UUID()
    version = fields.Integer()
    person_id = fields.UUID()
    instrument_id = fields.UUID()
    cohort_id = fields.UUID(allow_none=True)
    wave = fields.String()
    follow_up_months = fields.Integer(allow_none=True)
    wave_label = fields.String(allow_none=True)
    rater_group = fields.String()
    administered_on = fields.Date()
    scores = fields.Dict(keys=fields.String(), values=fields.Float(), allow_none=True)
    scores_withheld = fields.String(
        allow_none=True,
        metadata={"description": "Why scores are not shown (a multi-rater answer)."},
    )
    corrections = fields.Integer(metadata={"description": "Earlier versions superseded."})
    voided = fields.Boolean()
    void_reason = fields.String(allow_none=True)
    created_on = fields.AwareDateTime(format="iso")


class ResultPage(PageSchema):
    items = fields.List(fields.Nested(ResultOut))


class ResultFilter(PageArgs):
    person_id = fields.UUID()
    cohort_id = fields.UUID()
    instrument_id = fields.UUID()
    wave = fields.String(
        validate=[validate.Length(min=1, max=120), SingleLine, lambda key: _wave_key(key)],
        metadata={"description": "A wave (post) or a wave key (follow_up:6, custom:<label>)."},
    )


def _wave_key(key: str) -> None:
    """Refuses a filter no result's wave can ever match: an unknown wave, a follow-up without
    its months (``follow_up:6``), a custom wave without its label (``custom:<label>``), or a
    key not written as stored ones are."""
    try:
        canonical = Wave.from_key(key).key
    except WaveInvalid as exc:
        raise ValidationError(f"{exc}; a wave key is post, follow_up:6 or custom:<label>") from None
    if canonical != key:  # "post:x", "follow_up:06", "custom: x ": stored keys are canonical
        raise ValidationError(f"not a wave key as results are stored: did you mean {canonical}?")


class GroupSummary(Schema):
    rater_group = fields.String()
    minimum = fields.Integer()
    shown = fields.Boolean()
    raters = fields.Integer(allow_none=True)
    means = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), allow_none=True)
    suppressed_reason = fields.String(allow_none=True)


class WaveSummary(Schema):
    wave = fields.String()
    follow_up_months = fields.Integer(allow_none=True)
    wave_label = fields.String(allow_none=True)
    groups = fields.List(fields.Nested(GroupSummary))


class SummaryOut(Schema):
    person_id = fields.UUID()
    instrument_id = fields.UUID()
    dimensions = fields.List(fields.Nested(DimensionOut))
    waves = fields.List(fields.Nested(WaveSummary))


class ProfileIn(WaveIn):
    person_id = fields.UUID(required=True)
    instrument_id = fields.UUID(required=True)
    cohort_id = fields.UUID(allow_none=True, load_default=None)
    administered_on = PlausibleDate(required=True)
    primary = fields.String(required=True, validate=Text)
    secondary = fields.String(allow_none=True, load_default=None, validate=Text)
    scores = _scores(load_default={})


class ProfileCorrectionIn(Schema):
    primary = fields.String(required=True, validate=Text)
    secondary = fields.String(allow_none=True, load_default=None, validate=Text)
    scores = _scores(load_default={})
    reason = fields.String(required=True, validate=Reason)


class ProfileOut(Schema):
    id = fields.UUID()
    version = fields.Integer()
    person_id = fields.UUID()
    instrument_id = fields.UUID()
    cohort_id = fields.UUID(allow_none=True)
    wave = fields.String()
    follow_up_months = fields.Integer(allow_none=True)
    wave_label = fields.String(allow_none=True)
    administered_on = fields.Date()
    primary = fields.String()
    secondary = fields.String(allow_none=True)
    scores = fields.Dict(keys=fields.String(), values=fields.Float())
    corrections = fields.Integer()
    created_on = fields.AwareDateTime(format="iso")


class ProfilePage(PageSchema):
    items = fields.List(fields.Nested(ProfileOut))


class ProfileFilter(PageArgs):
    person_id = fields.UUID()
    cohort_id = fields.UUID()
    instrument_id = fields.UUID()
