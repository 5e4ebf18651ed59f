"""HTTP schemas of programmes, cohorts, invitations and enrolments (the edge only)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.web.pagination import PageArgs, PageSchema
from shared.web.validation import FreeText, PlausibleDate, SingleLine
from shared.web.versions import VersionArgs

Text = [validate.Length(min=1, max=200), SingleLine]
"""A name-like field: one line of 1-200 characters, no control characters."""
Reason = [validate.Length(min=1, max=500), FreeText]
"""A short reason: 1-500 characters; it is published in integration events, so keep it brief."""
ON = {"description": "The day it took effect (default today); never in the future."}


class VersionedPageArgs(PageArgs, VersionArgs):
    """A page of a list one aggregate holds, as it is or was at ``?version=``; the cursor
    counts items: ``after=50`` starts at the 51st."""


class OnIn(Schema):
    on = PlausibleDate(metadata=ON)


class ReasonIn(OnIn):
    reason = fields.String(required=True, validate=Reason)


class OptionalReasonIn(OnIn):
    reason = fields.String(validate=Reason)


# Programmes --------------------------------------------------------------------------------


class ProgrammeIn(Schema):
    name = fields.String(required=True, validate=Text)
    organisation = fields.String(required=True, validate=Text)
    description = fields.String(load_default="", validate=[validate.Length(max=5000), FreeText])
    goals = fields.List(
        fields.String(validate=[validate.Length(min=1, max=500), FreeText]),
        load_default=[],
        validate=validate.Length(max=100),
    )


class GoalIn(Schema):
    goal = fields.String(required=True, validate=[validate.Length(min=1, max=500), FreeText])


class ProgrammeOut(Schema):
    id = fields.UUID()
    name = fields.String()
    organisation = fields.String()
    description = fields.String()
    goals = fields.List(fields.String())
    status = fields.String(metadata={"description": "active or retired."})
    retired_on = fields.Date(allow_none=True)
    retirement_reason = fields.String(allow_none=True)
    version = fields.Integer()
    created_on = fields.AwareDateTime(format="iso")


class ProgrammePage(PageSchema):
    items = fields.List(fields.Nested(ProgrammeOut))


# Cohorts -----------------------------------------------------------------------------------


class CohortIn(Schema):
    programme_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=Text)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10000))
    start_date = PlausibleDate(required=True)
    end_date = PlausibleDate(required=True)
    funding_source = fields.String(validate=Text, metadata={"description": "e.g. Kaiku."})

    @validates_schema
    def check_window(self, data: dict[str, Any], **_: Any) -> None:
        if "start_date" in data and "end_date" in data and data["end_date"] <= data["start_date"]:
            raise ValidationError("end_date must be after start_date", field_name="end_date")


class CoachIn(Schema):
    coach = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), SingleLine],
        metadata={"description": "The coach's token subject."},
    )


class StatusChange(Schema):
    status = fields.String()
    on = fields.Date()
    reason = fields.String(allow_none=True)


class CohortOut(Schema):
    id = fields.UUID()
    programme_id = fields.UUID()
    name = fields.String()
    capacity = fields.Integer()
    start_date = fields.Date()
    end_date = fields.Date()
    funding_source = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "planned, open, running, completed, cancelled"})
    status_changes = fields.List(fields.Nested(StatusChange))
    cancellation_reason = fields.String(allow_none=True)
    enrolled_count = fields.Integer(metadata={"description": "Places taken (enrolled, completed)."})
    waitlist_count = fields.Integer()
    coaches = fields.List(fields.String())
    version = fields.Integer()
    created_on = fields.AwareDateTime(format="iso")


class CohortPage(PageSchema):
    items = fields.List(fields.Nested(CohortOut))


# Invitations and enrolments ------------------------------------------------------------------


class InvitationIn(OnIn):
    person_id = fields.UUID(required=True)


class EnrolmentIn(OnIn):
    person_id = fields.UUID(required=True)


class InvitationOut(Schema):
    cohort_id = fields.UUID()
    person_id = fields.UUID()
    status = fields.String()
    waitlist_position = fields.Integer(allow_none=True)


class EnrolmentOut(Schema):
    cohort_id = fields.UUID()
    person_id = fields.UUID()
    status = fields.String(
        metadata={"description": "invited, declined, waitlisted, enrolled, withdrawn, completed"}
    )
    enrolled_at = fields.AwareDateTime(format="iso", allow_none=True)
    enrolled_on = fields.Date(allow_none=True)
    invited_on = fields.Date(allow_none=True)
    declined_on = fields.Date(allow_none=True)
    decline_reason = fields.String(allow_none=True)
    waitlisted_on = fields.Date(allow_none=True)
    waitlist_position = fields.Integer(allow_none=True)
    withdrawn_on = fields.Date(allow_none=True)
    withdrawal_reason = fields.String(allow_none=True)
    completed_on = fields.Date(allow_none=True)


class WithdrawalOut(EnrolmentOut):
    promoted_person_id = fields.UUID(
        allow_none=True, metadata={"description": "Who took the place from the waitlist."}
    )


class EnrolmentArgs(VersionedPageArgs):
    status = fields.String(validate=validate.OneOf(["enrolled", "withdrawn", "completed"]))


class EnrolmentList(PageSchema):
    cohort_id = fields.UUID()
    capacity = fields.Integer()
    count = fields.Integer(metadata={"description": "Matching people in all, every page."})
    items = fields.List(fields.Nested(EnrolmentOut), metadata={"description": "This page."})


class PersonEnrolmentPage(PageSchema):
    person_id = fields.UUID()
    items = fields.List(fields.Nested(EnrolmentOut))
