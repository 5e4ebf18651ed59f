"""Integration events of the changes coordinators make after planning: a cohort's capacity and
window, an invitation taken back, and a person's personal details corrected.

Published on ``polku.enrolment.events`` like the rest of enrolment's events, and like them
without direct personal data: a correction names which fields changed, never their values.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.registry import Registry

PREFIX = "fi.polku.enrolment"
COHORT_CAPACITY_CHANGED = f"{PREFIX}.CohortCapacityChanged"
COHORT_WINDOW_MOVED = f"{PREFIX}.CohortWindowMoved"
INVITATION_WITHDRAWN = f"{PREFIX}.InvitationWithdrawn"
PERSON_DETAILS_CORRECTED = f"{PREFIX}.PersonDetailsCorrected"

PERSONAL_FIELDS = ("full_name", "email", "employee_number")
RESTORABLE = ("declined", "withdrawn")


class _Strict(Schema):
    """Data schemas reject unknown keys: a leaked personal field fails validation."""


class CohortCapacityChangedV1(_Strict):
    cohort_id = fields.UUID(required=True)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    previous_capacity = fields.Integer(required=True, strict=True)
    on = fields.Date(required=True, metadata={"description": "The effective date."})


class CohortWindowMovedV1(_Strict):
    cohort_id = fields.UUID(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    previous_start_date = fields.Date(required=True)
    previous_end_date = fields.Date(required=True)


class InvitationWithdrawnV1(_Strict):
    cohort_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    on = fields.Date(required=True, metadata={"description": "The effective date."})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    restored_status = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(RESTORABLE),
        metadata={
            "description": "The person's status before a repeat invitation, now theirs again; "
            "null after a first invitation: the cohort no longer knows them."
        },
    )
    restored_invited_on = fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "The date of the invitation before the one taken back."},
    )


class PersonDetailsCorrectedV1(_Strict):
    person_id = fields.UUID(required=True)
    corrected = fields.List(
        fields.String(validate=validate.OneOf(PERSONAL_FIELDS)),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Which personal fields changed; never their values."},
    )


def register(registry: Registry) -> None:
    registry.register(
        COHORT_CAPACITY_CHANGED,
        1,
        CohortCapacityChangedV1,
        "A cohort's capacity changed; ParticipantEnrolled follows for each person it seated "
        "from the waitlist.",
    )
    registry.register(
        COHORT_WINDOW_MOVED,
        1,
        CohortWindowMovedV1,
        "A cohort's window (start and end dates) moved; no session was left outside it.",
    )
    registry.register(
        INVITATION_WITHDRAWN,
        1,
        InvitationWithdrawnV1,
        "An open invitation sent by mistake was taken back: the person is as before it.",
    )
    registry.register(
        PERSON_DETAILS_CORRECTED,
        1,
        PersonDetailsCorrectedV1,
        "A person's name, e-mail address or employee number was corrected (fields named only).",
    )
