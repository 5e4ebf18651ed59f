"""Integration events about people's attributes, placements, careers and erasure.

Published by the enrolment service beside ``PersonRegistered`` (in :mod:`shared.events.enrolment`,
which carries the placement at registration). Like every integration event they hold the
pseudonymous person id and non-identifying attributes only: never a name, an e-mail address or an
employee number. A consumer that keeps anything about a person should drop what could identify
them on ``PersonErased``.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.registry import Registry

PREFIX = "fi.polku.enrolment"
PERSON_ATTRIBUTES_RECORDED = f"{PREFIX}.PersonAttributesRecorded"
PLACEMENT_CHANGED = f"{PREFIX}.PlacementChanged"
CAREER_MOVE_RECORDED = f"{PREFIX}.CareerMoveRecorded"
CAREER_MOVE_ENDED = f"{PREFIX}.CareerMoveEnded"
PERSON_ERASED = f"{PREFIX}.PersonErased"

MOVE_KINDS = ("job_rotation", "transfer", "new_post", "promotion", "secondment", "left_state")
SCOPES = (
    "same_unit",
    "other_unit",
    "other_department",
    "group_agency",
    "other_state_organisation",
    "outside_state",
)


class _Strict(Schema):
    """Data schemas reject unknown keys: a leaked personal field fails validation."""


def _optional() -> fields.String:
    return fields.String(required=True, allow_none=True)


class PersonAttributesRecordedV1(_Strict):
    person_id = fields.UUID(required=True)
    role = _optional()
    profession_category = _optional()
    education_level = _optional()


class PlacementChangedV1(_Strict):
    person_id = fields.UUID(required=True)
    organisation = fields.String(required=True)
    department = _optional()
    unit = _optional()
    effective_date = fields.Date(required=True)
    move_id = fields.UUID(
        required=True,
        allow_none=True,
        metadata={"description": "The permanent career move that placed them, if one did."},
    )


class CareerMoveRecordedV1(_Strict):
    person_id = fields.UUID(required=True)
    move_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(MOVE_KINDS))
    organisation = fields.String(required=True)
    department = _optional()
    unit = _optional()
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES))
    start_date = fields.Date(required=True)
    planned_end_date = fields.Date(required=True, allow_none=True)
    end_date = fields.Date(required=True, allow_none=True)


class CareerMoveEndedV1(_Strict):
    person_id = fields.UUID(required=True)
    move_id = fields.UUID(required=True)
    end_date = fields.Date(required=True)


class PersonErasedV1(_Strict):
    person_id = fields.UUID(required=True)
    erased_at = fields.AwareDateTime(required=True, format="iso")


def register(registry: Registry) -> None:
    registry.register(
        PERSON_ATTRIBUTES_RECORDED,
        1,
        PersonAttributesRecordedV1,
        "A person's role, profession category and education level were recorded (null: unknown).",
    )
    registry.register(
        PLACEMENT_CHANGED,
        1,
        PlacementChangedV1,
        "A person's placement changed from an effective date (directly, or by a permanent move).",
    )
    registry.register(
        CAREER_MOVE_RECORDED,
        1,
        CareerMoveRecordedV1,
        "A career move was recorded, with its scope relative to the person's placement.",
    )
    registry.register(
        CAREER_MOVE_ENDED, 1, CareerMoveEndedV1, "A rotation or secondment actually ended."
    )
    registry.register(
        PERSON_ERASED,
        1,
        PersonErasedV1,
        "A person's personal fields were erased; the pseudonymous record stays.",
    )
