"""``GET /<service>/audit/events``: the service's events, filtered for auditors.

Filters: aggregate id (the CloudEvents subject), person id (the subject, or ``person_id`` /
``person_ids`` in the data), event type, actor (``role:subject`` or the subject alone) and
recorded period (``from`` inclusive, ``to`` exclusive, on the event's ``time``).

The filters run over the log in position order, reading at most ``scan`` notifications per
request, so one request's cost is bounded whatever the log's size; ``next_after`` says where to
continue (also after a page that matched nothing). Each event carries its chain link, so an
auditor can check it against a checkpoint.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.events import Envelope
from shared.events.envelope import MAX_POSITION
from shared.outbox import Outbox
from shared.web.blueprint import Blueprint
from shared.web.security import requires
from shared.web.validation import Moment, SingleLine

SEARCHERS = ("auditor", "hr_admin")
MAX_SCAN = 50_000


class SearchArgs(Schema):
    aggregate_id = fields.UUID(metadata={"description": "Events of this aggregate (the subject)."})
    person_id = fields.UUID(metadata={"description": "Events about this person."})
    type = fields.String(
        validate=[validate.Length(min=1, max=200), SingleLine],
        metadata={
            "description": "The integration event type, e.g. polku.enrolment.person.registered.v1."
        },
    )
    actor = fields.String(
        validate=[validate.Length(min=1, max=200), SingleLine],
        metadata={"description": "Who recorded it: role:subject, or the subject alone."},
    )
    since = Moment(
        data_key="from", format="iso", metadata={"description": "Recorded at or after (ISO 8601)."}
    )
    until = Moment(
        data_key="to", format="iso", metadata={"description": "Recorded before (ISO 8601)."}
    )
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_POSITION),
        metadata={"description": "Cursor: positions after this one."},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    scan = fields.Integer(
        load_default=10_000,
        validate=validate.Range(min=1, max=MAX_SCAN),
        metadata={"description": "At most this many log positions are read per request."},
    )


class SearchPage(Schema):
    events = fields.List(
        fields.Dict(),
        metadata={"description": "CloudEvents 1.0 JSON objects, each with its chain link (hex)."},
    )
    next_after = fields.Integer(
        allow_none=True,
        metadata={"description": "Pass as ?after= to continue; null once the head is reached."},
    )
    head = fields.Integer(metadata={"description": "Newest position in the log."})


def matches(envelope: Envelope, args: dict[str, Any]) -> bool:
    if args.get("aggregate_id") and envelope.subject != str(args["aggregate_id"]):
        return False
    if args.get("person_id"):
        person = str(args["person_id"])
        data = envelope.data
        people = {envelope.subject, str(data.get("person_id", ""))}
        people.update(str(p) for p in data.get("person_ids", []) or [])
        if person not in people:
            return False
    if args.get("type") and envelope.type != args["type"]:
        return False
    actor = args.get("actor")
    if actor and envelope.actor != actor and envelope.actor.partition(":")[2] != actor:
        return False
    since: dt.datetime | None = args.get("since")
    if since is not None and envelope.time < since:
        return False
    until: dt.datetime | None = args.get("until")
    return not (until is not None and envelope.time >= until)


def search(outbox: Outbox, args: dict[str, Any]) -> dict[str, Any]:
    after, limit, budget = args["after"], args["limit"], args["scan"]
    found: list[dict[str, Any]] = []
    head = outbox.head()
    position = after
    while budget > 0 and position < head and len(found) < limit:
        batch = outbox.read(position, min(budget, 1000))
        if batch.last_position <= position:
            break
        budget -= batch.last_position - position
        for envelope in batch.envelopes:
            if matches(envelope, args):
                found.append(envelope.to_dict())
                if len(found) == limit:
                    position = envelope.position
                    break
        else:
            position = batch.last_position
    links = _links(outbox, [e["position"] for e in found])
    for event in found:
        event["link"] = links.get(event["position"])
    return {"events": found, "next_after": position if position < head else None, "head": head}


def _links(outbox: Outbox, positions: list[int]) -> dict[int, str]:
    recorder = outbox.app.recorder
    if not positions or not hasattr(recorder, "select_chain"):
        return {}
    rows = recorder.select_chain(positions[0] - 1, positions[-1] - positions[0] + 1)
    wanted = set(positions)
    return {r.position: r.link.hex() for r in rows if r.position in wanted}


def search_blueprint(service: str) -> Blueprint:
    blp = Blueprint(
        f"{service}_audit_events",
        __name__,
        url_prefix=f"/{service}/audit/events",
        description="The service's events filtered for auditors, with their chain links.",
    )

    @blp.route("")
    class Events(MethodView):
        @requires(*SEARCHERS)
        @blp.arguments(SearchArgs(), location="query")
        @blp.response(200, SearchPage())
        def get(self, args: dict[str, Any]) -> dict[str, Any]:
            """Events matching every filter given, in log order, with their chain links."""
            return search(current_app.extensions["polku.outbox"], args)

    return blp
