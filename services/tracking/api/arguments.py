"""The query arguments the tracking views share: ``as_of``, ``on``, ``format`` and the filters.

Everything a view takes is refused here, naming the argument (422), before it can reach a
cursor: a moment Python cannot place in UTC, a day outside :data:`EARLIEST_ON` to today,
control characters, an over-long filter.

Both time arguments take a plain date, which means the end of that day (UTC). ``as_of`` may
not lie in the future (nothing is known about it yet); nor may ``on``: tracking's views
describe what happened, and the changes scheduled for later are listed by enrolment
(``GET /enrolment/people/{id}/placements?on=``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from shared.web.validation import SingleLine

FILTER_MAX = 200
"""Characters in a text filter: more than any department, profession or role name."""


EARLIEST_ON = dt.date(1900, 1, 1)
"""The earliest ``on`` a view answers for: before it, no fact of any programme can be dated."""

_DATE = re.compile(r"\d{4}-\d\d-\d\d")


class AsOf(fields.AwareDateTime):
    """An ISO 8601 moment with an offset, or a date (the end of that day, UTC), no later than
    now (a date: today), that has a UTC equivalent."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.datetime:
        if isinstance(value, str):
            SingleLine(value)  # the ISO parser stops at a NUL and would accept what precedes
            if _DATE.fullmatch(value):
                return _end_of(value)
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment.astimezone(dt.UTC)
        except OverflowError:
            raise ValidationError("as_of falls outside the years 1 to 9999 in UTC") from None
        if moment > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5):
            raise ValidationError("as_of is in the future; nothing is known about it yet")
        return moment


def _end_of(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"as_of {value!r} is not a date") from None
    if day > dt.datetime.now(dt.UTC).date():
        raise ValidationError("as_of is in the future; nothing is known about it yet")
    return dt.datetime.combine(day, dt.time.max, dt.UTC)


class On(fields.Date):
    """An ISO date from :data:`EARLIEST_ON` to today (UTC)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.date:
        if isinstance(value, str):
            SingleLine(value)
        day = super()._deserialize(value, attr, data, **kwargs)
        if day < EARLIEST_ON:
            raise ValidationError(f"on is before {EARLIEST_ON.isoformat()}: nothing is dated then")
        if day > dt.datetime.now(dt.UTC).date():
            raise ValidationError(
                "on is in the future: tracking describes what happened; scheduled placements"
                " are listed by enrolment's GET /enrolment/people/{id}/placements?on="
            )
        return day


AS_OF_DOC = (
    "Answer from the events recorded up to this moment (ISO 8601 with offset, or a date:"
    " the end of that day, UTC), as the organisation could have answered then; not in the"
    " future. Default: now."
)
ON_DOC = (
    "The world as it was at the end of this day (ISO date, UTC), by the facts' own dates:"
    " enrolment stages, withdrawals, placements, career moves, sessions, results by"
    " administration date, staff-survey years (docs/time.md). Combines with `as_of`: what was"
    " known at `as_of` about this day. From 1900-01-01 to today. Default: today, live."
)


class ViewArgs(Schema):
    as_of = AsOf(load_default=None, metadata={"description": AS_OF_DOC})
    on = On(load_default=None, metadata={"description": ON_DOC})
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


def on_text(args: dict[str, Any]) -> str | None:
    """``on`` as asked for, echoed in every view."""
    on = args.get("on")
    return None if on is None else str(on.isoformat())
