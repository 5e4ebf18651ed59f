"""Cursor pagination shared by every list endpoint: ``?after=<cursor>&limit=<n>``."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.envelope import MAX_POSITION

MAX_LIMIT = 500


class PageArgs(Schema):
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_POSITION),
        metadata={"description": "Cursor: return items after this position (0 = from start)."},
    )
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per page, 1 to {MAX_LIMIT}."},
    )


class PageSchema(Schema):
    next_after = fields.Integer(
        allow_none=True,
        metadata={"description": "Pass as ?after= for the next page; null on the last page."},
    )
