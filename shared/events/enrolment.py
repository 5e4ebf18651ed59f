"""Integration events of programmes, cohorts and enrolment (``polku.enrolment.events``).

They carry pseudonymous ids and non-identifying attributes only: never a name, an e-mail
address or an employee number. Free-text reasons are short (at most 500 characters) and are
about the event, not about the person. Sessions, attendance and peer groups are in
``shared.events.sessions``.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events import sessions
from shared.events.registry import Registry

PREFIX = "fi.polku.enrolment"
PROGRAMME_DEFINED = f"{PREFIX}.ProgrammeDefined"
PROGRAMME_GOAL_ADDED = f"{PREFIX}.ProgrammeGoalAdded"
PROGRAMME_RETIRED = f"{PREFIX}.ProgrammeRetired"
COHORT_PLANNED = f"{PREFIX}.CohortPlanned"
COHORT_STATUS_CHANGED = f"{PREFIX}.CohortStatusChanged"
COHORT_COACH_ASSIGNED = f"{PREFIX}.CohortCoachAssigned"
PERSON_REGISTERED = f"{PREFIX}.PersonRegistered"
PARTICIPANT_INVITED = f"{PREFIX}.ParticipantInvited"
INVITATION_ACCEPTED = f"{PREFIX}.InvitationAccepted"
INVITATION_DECLINED = f"{PREFIX}.InvitationDeclined"
PARTICIPANT_WAITLISTED = f"{PREFIX}.ParticipantWaitlisted"
PARTICIPANT_ENROLLED = f"{PREFIX}.ParticipantEnrolled"
PARTICIPANT_WITHDRAWN = f"{PREFIX}.ParticipantWithdrawn"
PARTICIPANT_LEFT_WAITLIST = f"{PREFIX}.ParticipantLeftWaitlist"
PARTICIPANT_COMPLETED = f"{PREFIX}.ParticipantCompleted"

REASON = validate.Length(min=1, max=500)


class _Strict(Schema):
    """Data schemas reject unknown keys: a leaked personal field fails validation."""


class ProgrammeDefinedV1(_Strict):
    programme_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    organisation = fields.String(required=True)


class ProgrammeGoalAddedV1(_Strict):
    programme_id = fields.UUID(required=True)
    goal = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ProgrammeRetiredV1(_Strict):
    programme_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=REASON)
    on = fields.Date(required=True)


class CohortPlannedV1(_Strict):
    cohort_id = fields.UUID(required=True)
    programme_id = fields.UUID(required=True)
    name = fields.String(required=True)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    funding_source = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Present when the cohort has one (e.g. Kaiku)."},
    )


class CohortStatusChangedV1(_Strict):
    cohort_id = fields.UUID(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(["open", "running", "completed", "cancelled"])
    )
    on = fields.Date(required=True)
    reason = fields.String(allow_none=True, validate=REASON)


class CohortCoachAssignedV1(_Strict):
    cohort_id = fields.UUID(required=True)
    coach_ref = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{32}$"),
        metadata={
            "description": "A keyed hash (HMAC-SHA-256 under the token secret) of the coach's"
            " token subject: services holding the secret can match it against a caller's token;"
            " the subject itself is never published."
        },
    )


class PersonRegisteredV1(_Strict):
    person_id = fields.UUID(required=True)
    organisation = fields.String(required=True)
    department = fields.String(required=True)
    unit = fields.String(required=True)


class _PersonInCohort(_Strict):
    cohort_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    on = fields.Date(required=True, metadata={"description": "The effective date."})


class ParticipantInvitedV1(_PersonInCohort):
    pass


class InvitationAcceptedV1(_PersonInCohort):
    pass


class InvitationDeclinedV1(_PersonInCohort):
    reason = fields.String(allow_none=True, validate=REASON)


class ParticipantWaitlistedV1(_PersonInCohort):
    pass


class ParticipantEnrolledV1(_Strict):
    cohort_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    enrolled_at = fields.AwareDateTime(
        required=True,
        format="iso",
        metadata={
            "description": "When the enrolment took effect: the moment it was recorded, or "
            "midnight UTC of its effective date when recorded later."
        },
    )


class ParticipantWithdrawnV1(_PersonInCohort):
    reason = fields.String(required=True, validate=REASON)


class ParticipantLeftWaitlistV1(_PersonInCohort):
    reason = fields.String(required=True, validate=REASON)


class ParticipantCompletedV1(_PersonInCohort):
    pass


def register(registry: Registry) -> None:
    registry.register(PROGRAMME_DEFINED, 1, ProgrammeDefinedV1, "A programme was defined.")
    registry.register(
        PROGRAMME_GOAL_ADDED, 1, ProgrammeGoalAddedV1, "A goal was added to a programme."
    )
    registry.register(
        PROGRAMME_RETIRED,
        1,
        ProgrammeRetiredV1,
        "A programme was retired: it plans and opens no new cohorts.",
    )
    registry.register(COHORT_PLANNED, 1, CohortPlannedV1, "A cohort of a programme was planned.")
    registry.register(
        COHORT_STATUS_CHANGED,
        1,
        CohortStatusChangedV1,
        "A cohort opened, started running, completed, or was cancelled (with a reason).",
    )
    registry.register(
        COHORT_COACH_ASSIGNED,
        1,
        CohortCoachAssignedV1,
        "A coach was assigned to a cohort; they may read its views (coach by reference only).",
    )
    registry.register(
        PERSON_REGISTERED, 1, PersonRegisteredV1, "A person was registered (placement only)."
    )
    registry.register(
        PARTICIPANT_INVITED, 1, ParticipantInvitedV1, "A person was invited to a cohort."
    )
    registry.register(
        INVITATION_ACCEPTED,
        1,
        InvitationAcceptedV1,
        "An invitation was accepted; ParticipantEnrolled or ParticipantWaitlisted follows.",
    )
    registry.register(INVITATION_DECLINED, 1, InvitationDeclinedV1, "An invitation was declined.")
    registry.register(
        PARTICIPANT_WAITLISTED,
        1,
        ParticipantWaitlistedV1,
        "A full cohort put a person at the end of its first-in, first-out waitlist.",
    )
    registry.register(
        PARTICIPANT_ENROLLED,
        1,
        ParticipantEnrolledV1,
        "A person was enrolled in a cohort (directly, on accepting, or from the waitlist).",
    )
    registry.register(
        PARTICIPANT_WITHDRAWN,
        1,
        ParticipantWithdrawnV1,
        "An enrolled person withdrew; the head of the waitlist, if any, is enrolled next.",
    )
    registry.register(
        PARTICIPANT_LEFT_WAITLIST,
        1,
        ParticipantLeftWaitlistV1,
        "A person withdrew from a cohort's waitlist before a place came free; the others "
        "keep their order.",
    )
    registry.register(
        PARTICIPANT_COMPLETED, 1, ParticipantCompletedV1, "An enrolled person completed a cohort."
    )
    sessions.register(registry)
