"""HTTP schemas of people, placements, career moves, erasure and the people import."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.enrolment.api.cohort_schemas import VersionedPageArgs
from services.enrolment.domain.careers import MoveKind, Scope
from services.enrolment.personal import EMPLOYEE_NUMBER_MAX, NAME_MAX
from shared.web.pagination import PageSchema
from shared.web.validation import Email, PlausibleDate, SingleLine
from shared.web.versions import VersionArgs

Text = [validate.Length(min=1, max=200), SingleLine]
"""A name-like field: one line of 1-200 characters, no control characters."""


def optional_text(description: str) -> fields.String:
    return fields.String(
        load_default=None, allow_none=True, validate=Text, metadata={"description": description}
    )


class PersonIn(Schema):
    full_name = fields.String(
        required=True, validate=[validate.Length(min=1, max=NAME_MAX), SingleLine]
    )
    email = Email(required=True)
    employee_number = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=EMPLOYEE_NUMBER_MAX), SingleLine],
        metadata={"description": "Unique among people not erased."},
    )
    organisation = fields.String(required=True, validate=Text)
    department = fields.String(required=True, validate=Text)
    unit = fields.String(required=True, validate=Text)
    role = optional_text("For example expert, manager, supervisor.")
    profession_category = optional_text("For example lawyer, political_scientist, economist.")
    education_level = optional_text("For example bachelor, master, doctorate.")


class PersonCorrectionIn(Schema):
    full_name = fields.String(validate=[validate.Length(min=1, max=NAME_MAX), SingleLine])
    email = Email()
    employee_number = fields.String(
        validate=[validate.Length(min=1, max=EMPLOYEE_NUMBER_MAX), SingleLine],
        metadata={"description": "Unique among people not erased."},
    )


class PersonOut(Schema):
    id = fields.UUID(metadata={"description": "The pseudonymous id used everywhere else."})
    full_name = fields.String(allow_none=True, metadata={"description": "Null once erased."})
    email = fields.String(allow_none=True, metadata={"description": "Null once erased."})
    employee_number = fields.String(allow_none=True, metadata={"description": "Null once erased."})
    organisation = fields.String(
        metadata={"description": "The placement in force on `placed_on` (default today)."}
    )
    department = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    placed_on = fields.Date(
        metadata={"description": "The day the placement above is for: `on`, or today."}
    )
    scheduled = fields.List(
        fields.Nested(lambda: PlacementOut()),
        metadata={
            "description": "Placement changes dated after today (scheduled, not yet in force)."
        },
    )
    role = fields.String(allow_none=True)
    profession_category = fields.String(allow_none=True)
    education_level = fields.String(allow_none=True)
    erased = fields.Boolean()
    erased_at = fields.AwareDateTime(format="iso", allow_none=True)
    version = fields.Integer()
    created_on = fields.AwareDateTime(format="iso")


class PersonPage(PageSchema):
    items = fields.List(fields.Nested(PersonOut))


class PlacementIn(Schema):
    organisation = fields.String(
        load_default=None,
        validate=Text,
        metadata={"description": "Default: the organisation in force on the effective date."},
    )
    department = fields.String(required=True, validate=Text)
    unit = fields.String(required=True, validate=Text)
    effective_date = PlausibleDate(required=True)


class PlacementOut(Schema):
    organisation = fields.String()
    department = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    effective_date = fields.Date(
        allow_none=True, metadata={"description": "Null for the placement given at registration."}
    )
    move_id = fields.UUID(
        allow_none=True, metadata={"description": "The permanent career move that placed them."}
    )
    scheduled = fields.Boolean(
        metadata={"description": "Dated after today: stored, in force only from its date."}
    )


class OnArgs(Schema):
    on = fields.Date(
        load_default=None,
        metadata={
            "description": "The day to read the placement for (ISO date; past or future: a"
            " future day shows the changes scheduled by then). Default: today."
        },
    )


class PersonArgs(VersionArgs, OnArgs):
    """A person, as at ``version``, placed as on ``on``."""


class PlacementArgs(VersionedPageArgs, OnArgs):
    """The placements, or with ``on`` only the one in force that day."""


class PlacementHistory(PageSchema):
    person_id = fields.UUID()
    on = fields.Date(allow_none=True, metadata={"description": "The `on` asked for, if any."})
    count = fields.Integer(metadata={"description": "Placements in all, every page."})
    items = fields.List(fields.Nested(PlacementOut), metadata={"description": "By date."})


KINDS = [kind.value for kind in MoveKind]
SCOPES = [scope.value for scope in Scope]


class CareerMoveIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    organisation = fields.String(required=True, validate=Text)
    department = optional_text("Optional when leaving the state or moving to another organisation.")
    unit = optional_text("Optional.")
    start_date = PlausibleDate(required=True)
    planned_end_date = PlausibleDate(
        load_default=None,
        allow_none=True,
        metadata={"description": "Required for a job rotation, allowed for a secondment."},
    )
    end_date = PlausibleDate(load_default=None, allow_none=True)
    scope = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(SCOPES),
        metadata={
            "description": "Derived from the person's placement on the start date where the data "
            "allows; required otherwise (another organisation), and refused if it contradicts."
        },
    )

    @validates_schema
    def check_dates(self, data: dict[str, Any], **_: Any) -> None:
        for name in ("planned_end_date", "end_date"):
            if data.get(name) and data[name] < data["start_date"]:
                raise ValidationError(f"{name} is before start_date", field_name=name)


class CareerMoveOut(Schema):
    id = fields.UUID(metadata={"description": "The move's id."})
    person_id = fields.UUID()
    kind = fields.String()
    organisation = fields.String()
    department = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    scope = fields.String()
    scope_derived = fields.Boolean(
        metadata={"description": "True when the scope follows from the data alone."}
    )
    start_date = fields.Date()
    planned_end_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    scheduled = fields.Boolean(
        metadata={"description": "Starts after today: stored, in force only from its start."}
    )


class CareerMoveList(PageSchema):
    person_id = fields.UUID()
    count = fields.Integer(metadata={"description": "Moves in all, every page."})
    items = fields.List(fields.Nested(CareerMoveOut), metadata={"description": "By start date."})


class MoveEndIn(Schema):
    end_date = PlausibleDate(required=True)


class ErasureOut(Schema):
    person_id = fields.UUID()
    erased = fields.Boolean()
    erased_at = fields.AwareDateTime(format="iso")


class PeopleImportIn(Schema):
    csv = fields.String(
        required=True,
        validate=validate.Length(min=1, max=20_000_000),
        metadata={
            "description": "The CSV text: full_name, email, employee_number, organisation, "
            "department, unit, and optionally role, profession_category, education_level."
        },
    )
    dry_run = fields.Boolean(load_default=False)


class RowProblemOut(Schema):
    row = fields.Integer()
    column = fields.String(allow_none=True)
    message = fields.String()


class ImportResultOut(Schema):
    rows = fields.Integer()
    recorded = fields.Integer()
    unchanged = fields.Integer(metadata={"description": "Rows registered by an earlier run."})
    dry_run = fields.Boolean()
    problems = fields.List(fields.Nested(RowProblemOut))
