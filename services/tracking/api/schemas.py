"""Response schemas shared by the view endpoints: the suppressible cell, cohort headers."""

from __future__ import annotations

from marshmallow import Schema, fields


class Cell(Schema):
    """An aggregate figure, or null with the reason when too few people are behind it."""

    value = fields.Raw(allow_none=True, metadata={"description": "Null when suppressed."})
    n = fields.Integer(
        allow_none=True, metadata={"description": "People behind the figure; null when suppressed."}
    )
    suppressed = fields.Boolean()
    reason = fields.String(allow_none=True)


def cell(**kwargs: object) -> fields.Nested:
    return fields.Nested(Cell, **kwargs)  # type: ignore[arg-type]


def cells(**kwargs: object) -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.Nested(Cell), **kwargs)  # type: ignore[arg-type]


class CohortHeader(Schema):
    cohort_id = fields.String()
    programme_id = fields.String()
    name = fields.String()
    start_date = fields.String()
    end_date = fields.String()
    status = fields.String(
        metadata={"description": "planned, open, running, completed, cancelled."}
    )
    as_of = fields.String(allow_none=True, metadata={"description": "The as_of asked for, if any."})
    on = fields.String(allow_none=True, metadata={"description": "The on asked for, if any."})
