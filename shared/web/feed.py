"""``GET /<service>/events``: the outbox as paginated CloudEvents JSON, for pull subscribers.

Also ``GET /<service>/restricted/events``, a service's restricted channel (the assessment
service's events with their individual values): the same paging, but only a ``service`` token
whose subject is one of the configured restricted readers (tracking's identity) may read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Flask, current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from shared.outbox import Outbox
from shared.web.pagination import MAX_POSITION
from shared.web.security import requires

FEED_READERS = ("service", "auditor", "hr_admin")
RESTRICTED_ROLE = "service"


class FeedArgs(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_POSITION))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class FeedPage(Schema):
    events = fields.List(fields.Dict(), metadata={"description": "CloudEvents 1.0 JSON objects."})
    next_after = fields.Integer(metadata={"description": "Position to pass as ?after= next."})
    head = fields.Integer(metadata={"description": "Newest position in the log."})


def _page(outbox: Outbox, args: dict[str, Any]) -> dict[str, Any]:
    batch = outbox.read(args["after"], args["limit"])
    return {
        "events": [e.to_dict() for e in batch.envelopes],
        "next_after": batch.last_position,
        "head": outbox.head(),
    }


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
            return _page(current_app.extensions["polku.outbox"], args)

    return blp


def restricted_feed_blueprint(service: str, readers: Sequence[str]) -> Blueprint:
    blp = Blueprint(
        f"{service}_restricted_events",
        __name__,
        url_prefix=f"/{service}/restricted/events",
        description="The restricted channel: the same events with individual values (scores, "
        "answers, comments), for the tracking service only.",
    )

    @blp.route("")
    class RestrictedEvents(MethodView):
        @requires(RESTRICTED_ROLE)
        # Within the role, only these token subjects: another one is refused (403) as the
        # role-level refusal is, since it may never read this feed whatever it asks.
        @blp.doc(**{"x-subjects": list(readers)})
        @blp.arguments(FeedArgs(), location="query")
        @blp.response(200, FeedPage())
        def get(self, args: dict[str, Any]) -> dict[str, Any]:
            """Events after a position, in full; only the restricted readers' service tokens."""
            readers: Sequence[str] = current_app.extensions["polku.restricted_readers"]
            if g.principal.sub not in readers:
                abort(
                    403,
                    message=f"the restricted feed is readable only by the service token of "
                    f"{', '.join(readers)}, not by subject {g.principal.sub!r}",
                )
            return _page(current_app.extensions["polku.restricted_outbox"], args)

    return blp


def install_restricted_feed(app: Flask, outbox: Outbox, readers: Sequence[str]) -> None:
    """Serves ``outbox`` at ``/<service>/restricted/events`` to service tokens of ``readers``."""
    app.extensions["polku.restricted_outbox"] = outbox
    app.extensions["polku.restricted_readers"] = tuple(readers)
    app.extensions["polku.api"].register_blueprint(
        restricted_feed_blueprint(outbox.service, readers)
    )
