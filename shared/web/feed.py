"""``GET /<service>/events``: the outbox as paginated CloudEvents JSON, for pull subscribers."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.outbox import Outbox
from shared.web.pagination import MAX_POSITION
from shared.web.security import requires

FEED_READERS = ("service", "auditor", "hr_admin")


class FeedArgs(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_POSITION))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class FeedPage(Schema):
    events = fields.List(fields.Dict(), metadata={"description": "CloudEvents 1.0 JSON objects."})
    next_after = fields.Integer(metadata={"description": "Position to pass as ?after= next."})
    head = fields.Integer(metadata={"description": "Newest position in the log."})


def feed_blueprint(service: str) -> Blueprint:
    blp = Blueprint(
        f"{service}_events",
        __name__,
        url_prefix=f"/{service}/events",
        description="The service's integration events in log order (CloudEvents JSON).",
    )

    @blp.route("")
    class Events(MethodView):
        @requires(*FEED_READERS)
        @blp.arguments(FeedArgs(), location="query")
        @blp.response(200, FeedPage())
        def get(self, args: dict[str, Any]) -> dict[str, Any]:
            """Events after a position; empty pages still advance ``next_after`` past gaps."""
            outbox: Outbox = current_app.extensions["polku.outbox"]
            batch = outbox.read(args["after"], args["limit"])
            return {
                "events": [e.to_dict() for e in batch.envelopes],
                "next_after": batch.last_position,
                "head": outbox.head(),
            }

    return blp
