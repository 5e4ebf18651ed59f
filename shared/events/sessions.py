"""Integration events of cohort sessions, attendance and peer groups (``polku.enrolment.events``).

Facilitators appear by kind, role and organisation only: a guest speaker's name stays in the
enrolment service. Attendance names the participant by pseudonymous id.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.registry import Registry

PREFIX = "fi.polku.enrolment"
SESSION_SCHEDULED = f"{PREFIX}.SessionScheduled"
SESSION_RESCHEDULED = f"{PREFIX}.SessionRescheduled"
SESSION_DELIVERY_CHANGED = f"{PREFIX}.SessionDeliveryChanged"
SESSION_HELD = f"{PREFIX}.SessionHeld"
SESSION_CANCELLED = f"{PREFIX}.SessionCancelled"
ATTENDANCE_RECORDED = f"{PREFIX}.AttendanceRecorded"
ATTENDANCE_CORRECTED = f"{PREFIX}.AttendanceCorrected"
PEER_GROUP_FORMED = f"{PREFIX}.PeerGroupFormed"
PEER_GROUP_MEMBER_ADDED = f"{PREFIX}.PeerGroupMemberAdded"
PEER_GROUP_MEMBER_REMOVED = f"{PREFIX}.PeerGroupMemberRemoved"

REASON = validate.Length(min=1, max=500)
DELIVERY = validate.OneOf(["in_person", "virtual", "hybrid"])
ATTENDANCE = validate.OneOf(["present", "absent", "excused", "partial"])


class _Strict(Schema):
    """Data schemas reject unknown keys: a leaked personal field fails validation."""


class FacilitatorV1(_Strict):
    """Who facilitates a session, by kind, role and organisation: never by name."""

    kind = fields.String(required=True, validate=validate.OneOf(["coach", "guest_speaker"]))
    role = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)


class SessionScheduledV1(_Strict):
    session_id = fields.UUID(required=True)
    cohort_id = fields.UUID(required=True)
    title = fields.String(required=True)
    module = fields.String(allow_none=True)
    starts_at = fields.AwareDateTime(required=True, format="iso")
    ends_at = fields.AwareDateTime(required=True, format="iso")
    delivery = fields.String(required=True, validate=DELIVERY)
    platform = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    facilitators = fields.List(fields.Nested(FacilitatorV1), required=True)


class SessionRescheduledV1(_Strict):
    session_id = fields.UUID(required=True)
    starts_at = fields.AwareDateTime(required=True, format="iso")
    ends_at = fields.AwareDateTime(required=True, format="iso")
    previous_starts_at = fields.AwareDateTime(required=True, format="iso")
    previous_ends_at = fields.AwareDateTime(required=True, format="iso")
    reason = fields.String(required=True, validate=REASON)


class SessionDeliveryChangedV1(_Strict):
    session_id = fields.UUID(required=True)
    previous_delivery = fields.String(required=True, validate=DELIVERY)
    delivery = fields.String(required=True, validate=DELIVERY)
    platform = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    reason = fields.String(required=True, validate=REASON)


class SessionHeldV1(_Strict):
    session_id = fields.UUID(required=True)


class SessionCancelledV1(_Strict):
    session_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=REASON)


class AttendanceRecordedV1(_Strict):
    session_id = fields.UUID(required=True)
    cohort_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    status = fields.String(required=True, validate=ATTENDANCE)
    minutes = fields.Integer(
        allow_none=True, strict=True, metadata={"description": "For partial attendance only."}
    )


class AttendanceCorrectedV1(AttendanceRecordedV1):
    previous_status = fields.String(required=True, validate=ATTENDANCE)
    previous_minutes = fields.Integer(allow_none=True, strict=True)
    reason = fields.String(required=True, validate=REASON)


class PeerGroupFormedV1(_Strict):
    group_id = fields.UUID(required=True)
    cohort_id = fields.UUID(required=True)
    name = fields.String(required=True)
    members = fields.List(fields.UUID(), required=True)


class PeerGroupMemberV1(_Strict):
    group_id = fields.UUID(required=True)
    cohort_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)


def register(registry: Registry) -> None:
    registry.register(
        SESSION_SCHEDULED,
        1,
        SessionScheduledV1,
        "A session of a cohort was scheduled (facilitators by kind, role and organisation).",
    )
    registry.register(
        SESSION_RESCHEDULED, 1, SessionRescheduledV1, "A session moved, with the reason."
    )
    registry.register(
        SESSION_DELIVERY_CHANGED,
        1,
        SessionDeliveryChangedV1,
        "A session's delivery changed (e.g. in person to virtual), with the reason.",
    )
    registry.register(SESSION_HELD, 1, SessionHeldV1, "A session took place.")
    registry.register(SESSION_CANCELLED, 1, SessionCancelledV1, "A session was cancelled.")
    registry.register(
        ATTENDANCE_RECORDED,
        1,
        AttendanceRecordedV1,
        "A participant's attendance at a session was recorded.",
    )
    registry.register(
        ATTENDANCE_CORRECTED,
        1,
        AttendanceCorrectedV1,
        "A recorded attendance was corrected; the original record stands in the log.",
    )
    registry.register(
        PEER_GROUP_FORMED, 1, PeerGroupFormedV1, "A peer group was formed inside a cohort."
    )
    registry.register(
        PEER_GROUP_MEMBER_ADDED, 1, PeerGroupMemberV1, "A participant joined a peer group."
    )
    registry.register(
        PEER_GROUP_MEMBER_REMOVED, 1, PeerGroupMemberV1, "A participant left a peer group."
    )
