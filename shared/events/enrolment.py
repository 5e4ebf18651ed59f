"""Integration events published by the enrolment service (``polku.enrolment.events``).

They carry pseudonymous ids and non-identifying attributes only: never a name, an e-mail
address or an employee number.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.registry import Registry

PREFIX = "fi.polku.enrolment"
PROGRAMME_DEFINED = f"{PREFIX}.ProgrammeDefined"
COHORT_PLANNED = f"{PREFIX}.CohortPlanned"
PERSON_REGISTERED = f"{PREFIX}.PersonRegistered"
PARTICIPANT_ENROLLED = f"{PREFIX}.ParticipantEnrolled"


class _Strict(Schema):
    """Data schemas reject unknown keys: a leaked personal field fails validation."""


class ProgrammeDefinedV1(_Strict):
    programme_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    organisation = fields.String(required=True)


class CohortPlannedV1(_Strict):
    cohort_id = fields.UUID(required=True)
    programme_id = fields.UUID(required=True)
    name = fields.String(required=True)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)


class PersonRegisteredV1(_Strict):
    person_id = fields.UUID(required=True)
    organisation = fields.String(required=True)
    department = fields.String(required=True)
    unit = fields.String(required=True)


class ParticipantEnrolledV1(_Strict):
    cohort_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)
    enrolled_at = fields.AwareDateTime(required=True, format="iso")


def register(registry: Registry) -> None:
    registry.register(PROGRAMME_DEFINED, 1, ProgrammeDefinedV1, "A programme was defined.")
    registry.register(COHORT_PLANNED, 1, CohortPlannedV1, "A cohort of a programme was planned.")
    registry.register(
        PERSON_REGISTERED, 1, PersonRegisteredV1, "A person was registered (placement only)."
    )
    registry.register(
        PARTICIPANT_ENROLLED, 1, ParticipantEnrolledV1, "A person was enrolled in a cohort."
    )
