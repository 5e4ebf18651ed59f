"""HTTP schemas of sessions, attendance and peer groups (the edge only)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.enrolment.api.cohort_schemas import Reason, Text
from shared.web.pagination import PageSchema
from shared.web.validation import PlausibleDateTime

DELIVERY = validate.OneOf(["in_person", "virtual", "hybrid"])


class FacilitatorIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["coach", "guest_speaker"]))
    role = fields.String(validate=Text, metadata={"description": "e.g. Head of Department"})
    organisation = fields.String(
        validate=Text, metadata={"description": "e.g. Ministry of Finance"}
    )
    name = fields.String(validate=Text, metadata={"description": "Never published in events."})


class SessionIn(Schema):
    title = fields.String(required=True, validate=Text)
    module = fields.String(validate=Text)
    starts_at = PlausibleDateTime(required=True, format="iso")
    ends_at = PlausibleDateTime(
        format="iso", metadata={"description": "Default: four hours after starts_at."}
    )
    delivery = fields.String(load_default="in_person", validate=DELIVERY)
    location = fields.String(validate=Text)
    platform = fields.String(validate=Text, metadata={"description": "e.g. Skype"})
    facilitators = fields.List(
        fields.Nested(FacilitatorIn), load_default=[], validate=validate.Length(max=20)
    )


class RescheduleIn(Schema):
    starts_at = PlausibleDateTime(required=True, format="iso")
    ends_at = PlausibleDateTime(
        format="iso", metadata={"description": "Default: keeps the session's length."}
    )
    reason = fields.String(required=True, validate=Reason)


class DeliveryIn(Schema):
    delivery = fields.String(required=True, validate=DELIVERY)
    platform = fields.String(validate=Text)
    location = fields.String(validate=Text)
    reason = fields.String(required=True, validate=Reason)


class CancelIn(Schema):
    reason = fields.String(required=True, validate=Reason)


class Facilitator(Schema):
    kind = fields.String()
    role = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class Change(Schema):
    change = fields.String(
        metadata={"description": "scheduled, rescheduled, delivery_changed, held, cancelled"}
    )
    version = fields.Integer(metadata={"description": "The session's version it made."})
    reason = fields.String(allow_none=True)
    from_ = fields.Raw(data_key="from", allow_none=True)
    to = fields.Raw(allow_none=True)


class SessionOut(Schema):
    id = fields.UUID()
    cohort_id = fields.UUID()
    title = fields.String()
    module = fields.String(allow_none=True)
    starts_at = fields.AwareDateTime(format="iso")
    ends_at = fields.AwareDateTime(format="iso")
    delivery = fields.String()
    location = fields.String(allow_none=True)
    platform = fields.String(allow_none=True)
    facilitators = fields.List(fields.Nested(Facilitator))
    status = fields.String(metadata={"description": "scheduled, held or cancelled"})
    cancellation_reason = fields.String(allow_none=True)
    history = fields.List(fields.Nested(Change))
    version = fields.Integer()
    created_on = fields.AwareDateTime(format="iso")


class SessionPage(PageSchema):
    items = fields.List(fields.Nested(SessionOut))


class MarkIn(Schema):
    person_id = fields.UUID(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(["present", "absent", "excused", "partial"])
    )
    minutes = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=24 * 60),
        metadata={"description": "Partial attendance only: 1 to the session's length."},
    )


class AttendanceIn(Schema):
    records = fields.List(
        fields.Nested(MarkIn), required=True, validate=validate.Length(min=1, max=1000)
    )
    reason = fields.String(
        validate=Reason, metadata={"description": "Required when a record corrects an earlier one."}
    )


class AttendanceTally(Schema):
    session_id = fields.UUID()
    recorded = fields.Integer()
    corrected = fields.Integer()
    unchanged = fields.Integer()


class AttendanceEntry(Schema):
    status = fields.String()
    minutes = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    correction = fields.Boolean()
    version = fields.Integer()


class PersonAttendance(Schema):
    person_id = fields.UUID()
    status = fields.String()
    minutes = fields.Integer(allow_none=True)
    history = fields.List(fields.Nested(AttendanceEntry), metadata={"description": "Oldest first."})


class AttendanceOut(Schema):
    session_id = fields.UUID()
    cohort_id = fields.UUID()
    day = fields.Date()
    status = fields.String()
    expected = fields.Integer(metadata={"description": "People enrolled on the session's day."})
    records = fields.List(fields.Nested(PersonAttendance))
    unrecorded = fields.List(
        fields.UUID(), metadata={"description": "Enrolled on the day, no record yet."}
    )


class PeerGroupIn(Schema):
    name = fields.String(required=True, validate=Text)
    members = fields.List(fields.UUID(), load_default=[], validate=validate.Length(max=100))


class MemberIn(Schema):
    person_id = fields.UUID(required=True)


class PeerGroupOut(Schema):
    id = fields.UUID()
    cohort_id = fields.UUID()
    name = fields.String()
    members = fields.List(fields.UUID())
    version = fields.Integer()
    created_on = fields.AwareDateTime(format="iso")


class PeerGroupPage(PageSchema):
    items = fields.List(fields.Nested(PeerGroupOut))
