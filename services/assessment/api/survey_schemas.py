"""HTTP schemas of reaction surveys, staff-survey results and imports."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.assessment.api.schemas import Reason, Text, _number, _scores
from services.assessment.domain.reactions import MAX_COMMENT, MAX_TOKENS_PER_ISSUE
from services.assessment.domain.staff_survey import LEVELS
from shared.web.pagination import PageArgs, PageSchema
from shared.web.validation import FreeText


class TokensIn(Schema):
    instrument_id = fields.UUID(required=True)
    cohort_id = fields.UUID(required=True)
    count = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_TOKENS_PER_ISSUE),
        metadata={"description": "One token per invited participant."},
    )


class SurveyOut(Schema):
    id = fields.UUID()
    version = fields.Integer()
    instrument_id = fields.UUID()
    cohort_id = fields.UUID()
    issued = fields.Integer(metadata={"description": "Tokens issued in all."})
    responses = fields.Integer()
    closed = fields.Boolean()
    created_on = fields.AwareDateTime(format="iso")


class TokensOut(SurveyOut):
    tokens = fields.List(
        fields.String(),
        metadata={"description": "Shown this once and stored nowhere: hand one to each invitee."},
    )


class ResponseIn(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    answers = _scores(required=True)
    comments = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=63)),
        values=fields.String(validate=[validate.Length(max=MAX_COMMENT), FreeText]),
        load_default={},
    )


class AcceptedOut(Schema):
    accepted = fields.Boolean()
    survey_id = fields.UUID()


class ItemReport(Schema):
    key = fields.String()
    label = fields.String()
    answered = fields.Integer(allow_none=True)
    mean = fields.Float(allow_none=True)
    distribution = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        allow_none=True,
        metadata={"description": "How many gave each scale value (values given only)."},
    )
    suppressed_reason = fields.String(allow_none=True)


class ReportOut(Schema):
    survey_id = fields.UUID()
    instrument_id = fields.UUID()
    cohort_id = fields.UUID()
    responses = fields.Integer(metadata={"description": "Responses received."})
    minimum = fields.Integer(metadata={"description": "The instrument's minimum group size k."})
    answers_shown = fields.Boolean()
    answers_suppressed_reason = fields.String(allow_none=True)
    items = fields.List(fields.Nested(ItemReport))
    comments_shown = fields.Boolean()
    comments_suppressed_reason = fields.String(allow_none=True)


class CommentOut(Schema):
    question = fields.String()
    label = fields.String()
    text = fields.String()


class CommentPage(PageSchema):
    survey_id = fields.UUID()
    comments_shown = fields.Boolean()
    comments_suppressed_reason = fields.String(allow_none=True)
    items = fields.List(fields.Nested(CommentOut))


class StaffResultIn(Schema):
    instrument_id = fields.UUID(required=True)
    year = fields.Integer(required=True, strict=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    organisation = fields.String(required=True, validate=Text)
    department = fields.String(allow_none=True, load_default=None, validate=Text)
    unit = fields.String(allow_none=True, load_default=None, validate=Text)
    respondents = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=10_000_000)
    )
    indices = _scores(required=True)


class StaffCorrectionIn(Schema):
    respondents = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=10_000_000)
    )
    indices = _scores(required=True)
    reason = fields.String(required=True, validate=Reason)


class StaffResultOut(Schema):
    id = fields.UUID()
    version = fields.Integer()
    instrument_id = fields.UUID()
    year = fields.Integer()
    level = fields.String()
    organisation = fields.String()
    department = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    respondents = fields.Integer()
    indices = fields.Dict(keys=fields.String(), values=_number())
    corrections = fields.Integer()
    created_on = fields.AwareDateTime(format="iso")


class StaffResultPage(PageSchema):
    items = fields.List(fields.Nested(StaffResultOut))


class StaffResultFilter(PageArgs):
    instrument_id = fields.UUID()
    year = fields.Integer(validate=validate.Range(min=1990, max=2100))
    level = fields.String(validate=validate.OneOf(LEVELS))
    department = fields.String(validate=Text)
    unit = fields.String(validate=Text)


class ImportIn(Schema):
    instrument_id = fields.UUID(required=True)
    csv = fields.String(
        required=True,
        validate=validate.Length(min=1, max=8 * 1024 * 1024),
        metadata={"description": "The CSV export, as text."},
    )
    mapping = fields.Dict(
        required=True, metadata={"description": "Columns to dimensions; see the endpoint."}
    )
    dry_run = fields.Boolean(load_default=False)


class ImportProblem(Schema):
    row = fields.Integer()
    column = fields.String(allow_none=True)
    message = fields.String()


class ImportOut(Schema):
    rows = fields.Integer()
    recorded = fields.Integer()
    unchanged = fields.Integer()
    dry_run = fields.Boolean()
    problems = fields.List(fields.Nested(ImportProblem))
