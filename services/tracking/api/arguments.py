"""The query arguments the tracking views share: ``as_of``, ``format`` and the filters.

Everything a view takes is refused here, naming the argument (422), before it can reach a
cursor: a moment Python cannot place in UTC, control characters, an over-long filter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from shared.web.validation import SingleLine

FILTER_MAX = 200
"""Characters in a text filter: more than any department, profession or role name."""


class AsOf(fields.AwareDateTime):
    """An ISO 8601 moment with an offset, no later than now, that has a UTC equivalent."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.datetime:
        if isinstance(value, str):
            SingleLine(value)  # the ISO parser stops at a NUL and would accept what precedes
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment.astimezone(dt.UTC)
        except OverflowError:
            raise ValidationError("as_of falls outside the years 1 to 9999 in UTC") from None
        if moment > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5):
            raise ValidationError("as_of is in the future; nothing is known about it yet")
        return moment


class ViewArgs(Schema):
    as_of = AsOf(
        load_default=None,
        metadata={
            "description": "Answer from the events recorded up to this moment (ISO 8601 with"
            " offset), as the organisation could have answered then. Default: now."
        },
    )
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "`csv` returns the view's main table as text/csv."},
    )
    csv_dialect = fields.String(
        load_default="standard",
        validate=validate.OneOf(["standard", "fi"]),
        metadata={
            "description": "With `format=csv`: `standard` (`,` between fields, decimal points, "
            "UTF-8) or `fi`, for Excel in Finnish: `;` between fields, decimal commas, UTF-8 "
            "with a byte-order mark."
        },
    )
    csv_tables = fields.String(
        load_default="main",
        validate=validate.OneOf(["main", "all"]),
        metadata={
            "description": "With `format=csv`: `main`, the view's main table; `all`, the main "
            "table, an empty line, then every headline figure of the view (one row each: "
            "figure, value, n, suppressed, reason)."
        },
    )


def id_filter(description: str) -> fields.UUID:
    """An optional id narrowing a view; read it with :func:`text_id`."""
    return fields.UUID(load_default=None, metadata={"description": description})


def text_filter(description: str) -> fields.String:
    """An optional single line of text narrowing a view (exact match)."""
    return fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=FILTER_MAX), SingleLine],
        metadata={"description": description},
    )


def text_id(args: dict[str, Any], name: str) -> str | None:
    """An id argument as the read models store ids (text), or None when not given."""
    value = args.get(name)
    return None if value is None else str(value)


def as_of_text(args: dict[str, Any]) -> str | None:
    """``as_of`` as asked for (offset kept), echoed in every view."""
    as_of = args.get("as_of")
    return None if as_of is None else str(as_of.isoformat())
