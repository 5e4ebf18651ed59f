"""Versions of aggregates at the edge: ``?version=`` to read the past, ``If-Match`` to write safely.

An aggregate's version counts its events. A GET with ``?version=N`` shows the state just after the
N-th event. A command sent with ``If-Match: N`` (or ``"N"``) changes the aggregate only if it is
still at version N; otherwise the answer is 409 with ``current_version``.
"""

from __future__ import annotations

from flask import request
from flask_smorest import abort
from marshmallow import Schema, fields, validate

from shared.events.envelope import MAX_POSITION

IF_MATCH = "If-Match"


class VersionArgs(Schema):
    version = fields.Integer(
        validate=validate.Range(min=1, max=MAX_POSITION),
        metadata={"description": "Show the state as it was at this version (1 = as created)."},
    )


def expected_version() -> int | None:
    """The version the request's ``If-Match`` header names, or None when it sends none.

    Only the ASCII digits count: ``str.isdigit`` also accepts superscripts (a header's byte
    0xB2 arrives as Latin-1 ``²``), which ``int`` cannot read.
    """
    given = request.headers.get(IF_MATCH, "").strip()
    if not given:
        return None
    bare = given.removeprefix("W/").strip('"')
    if not (bare.isascii() and bare.isdigit()) or not 1 <= len(bare) <= 18 or int(bare) < 1:
        abort(
            400,
            message=f"{IF_MATCH} must be an aggregate version, a positive whole number such as 3",
        )
    return int(bare)
