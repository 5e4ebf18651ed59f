"""HTTP schemas of the enrolment API (the edge; the domain never sees them)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.web.pagination import PageSchema
from shared.web.validation import Email, FreeText, SingleLine

Text = [validate.Length(min=1, max=200), SingleLine]
"""A name-like field: one line of 1-200 characters, no control characters."""


class ProgrammeIn(Schema):
    name = fields.String(required=True, validate=Text)
    organisation = fields.String(required=True, validate=Text)
    description = fields.String(load_default="", validate=[validate.Length(max=5000), FreeText])
    goals = fields.List(
        fields.String(validate=[validate.Length(min=1, max=500), FreeText]), load_default=[]
    )


class ProgrammeOut(Schema):
    id = fields.UUID()
    name = fields.String()
    organisation = fields.String()
    description = fields.String()
    goals = fields.List(fields.String())
    created_on = fields.AwareDateTime(format="iso")


class ProgrammePage(PageSchema):
    items = fields.List(fields.Nested(ProgrammeOut))


class CohortIn(Schema):
    programme_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=Text)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10000))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)

    @validates_schema
    def check_window(self, data: dict[str, Any], **_: Any) -> None:
        if data["end_date"] <= data["start_date"]:
            raise ValidationError("end_date must be after start_date", field_name="end_date")


class CohortOut(Schema):
    id = fields.UUID()
    programme_id = fields.UUID()
    name = fields.String()
    capacity = fields.Integer()
    start_date = fields.Date()
    end_date = fields.Date()
    enrolled_count = fields.Integer()
    created_on = fields.AwareDateTime(format="iso")


class CohortPage(PageSchema):
    items = fields.List(fields.Nested(CohortOut))


class PersonIn(Schema):
    full_name = fields.String(required=True, validate=Text)
    email = Email(required=True)
    employee_number = fields.String(
        required=True, validate=[validate.Length(min=1, max=50), SingleLine]
    )
    organisation = fields.String(required=True, validate=Text)
    department = fields.String(required=True, validate=Text)
    unit = fields.String(required=True, validate=Text)


class PersonOut(Schema):
    id = fields.UUID(metadata={"description": "The pseudonymous id used everywhere else."})
    full_name = fields.String()
    email = fields.String()
    employee_number = fields.String()
    organisation = fields.String()
    department = fields.String()
    unit = fields.String()
    created_on = fields.AwareDateTime(format="iso")


class PersonPage(PageSchema):
    items = fields.List(fields.Nested(PersonOut))


class EnrolmentIn(Schema):
    person_id = fields.UUID(required=True)


class EnrolmentOut(Schema):
    cohort_id = fields.UUID()
    person_id = fields.UUID()
    enrolled_at = fields.AwareDateTime(format="iso")


class EnrolmentList(PageSchema):
    cohort_id = fields.UUID()
    capacity = fields.Integer()
    count = fields.Integer(metadata={"description": "People enrolled in all, every page."})
    items = fields.List(fields.Nested(EnrolmentOut), metadata={"description": "This page."})
