"""``GET /<service>/events``: the outbox as paginated CloudEvents JSON, for pull subscribers.

A page's ``next_after`` is null once it reached the head of the log; the subscriber continues
from ``head``, long-polling with ``wait=`` (at most :data:`MAX_WAIT` seconds, and at most
:data:`MAX_WAITERS` waiting requests per process, so waiting never holds every server thread).
Filters (types, subject, recorded time) scan the log a bounded number of reads per page.

Also ``GET /<service>/restricted/events``, a service's restricted channel (the assessment
service's events with their individual values): the same paging, but only a ``service`` token
whose subject is one of the configured restricted readers (tracking's identity) may read it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, current_app, g
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.events import Envelope
from shared.outbox import Outbox
from shared.web.blueprint import Blueprint
from shared.web.contract import cloudevent_component
from shared.web.pagination import MAX_POSITION
from shared.web.security import requires
from shared.web.validation import Moment

FEED_READERS = ("service", "auditor", "hr_admin")
RESTRICTED_ROLE = "service"

MAX_WAIT = 20
"""Longest long-poll (``?wait=``), in seconds: under the server's 30 s graceful-stop limit."""
MAX_WAITERS = 4
"""Long-polls one process holds at once; a request beyond them is answered at once (no wait),
so waiting subscribers never take every thread of a worker (8 by default)."""
WAIT_STEP = 0.1
"""Seconds between looks at the log's head while a long-poll waits."""
SCAN_PAGES = 20
"""A filtered page scans at most this many ``limit``-sized reads of the log, then returns what
it found with ``next_after`` where it stopped."""

_waiters = threading.BoundedSemaphore(MAX_WAITERS)


class FeedArgs(Schema):
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_POSITION),
        metadata={"description": "Return events after this position (0: from the start)."},
    )
    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=1000),
        metadata={
            "description": "Log positions scanned per read, 1 to 1000: at most this many "
            "events per page."
        },
    )
    type = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        load_default=list,
        metadata={"description": "Only these event types; repeat the parameter for several."},
    )
    subject = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Only events of this subject (an aggregate's id)."},
    )
    since = Moment(
        load_default=None,
        format="iso",
        metadata={"description": "Only events recorded at or after this time (with offset)."},
    )
    until = Moment(
        load_default=None,
        format="iso",
        metadata={"description": "Only events recorded before this time (with offset)."},
    )
    wait = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_WAIT),
        metadata={
            "description": f"Long-poll: when nothing matches yet, wait up to this many seconds "
            f"(at most {MAX_WAIT}) for a new event before answering. A process holds at most "
            f"{MAX_WAITERS} waiting requests; beyond them a request is answered at once."
        },
    )

    @validates_schema
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("must be later than since", "until")


class FeedPage(Schema):
    # Raw with the array documented by hand: a List field's own items would replace the ref.
    events = fields.Raw(
        metadata={
            "type": "array",
            "description": "CloudEvents 1.0 JSON objects, in log order. Each one's data "
            "validates against the JSON Schema its dataschema URL serves.",
            "items": {"$ref": "#/components/schemas/CloudEvent"},
        },
    )
    next_after = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Position to pass as ?after= for the next page; null when this page "
            "reached the head of the log. Then poll again later with ?after=<head> (and "
            "?wait= to long-poll)."
        },
    )
    head = fields.Integer(metadata={"description": "Newest position in the log."})


class RestrictedFeedPage(FeedPage):
    events = fields.Raw(
        metadata={
            "type": "array",
            "description": "CloudEvents 1.0 JSON objects with individual values, in log order.",
            "items": {"$ref": "#/components/schemas/RestrictedCloudEvent"},
        },
    )


def _matches(args: dict[str, Any]) -> Callable[[Envelope], bool] | None:
    types = set(args["type"])
    subject, since, until = args["subject"], args["since"], args["until"]
    if not (types or subject or since or until):
        return None

    def matches(envelope: Envelope) -> bool:
        return (
            (not types or envelope.type in types)
            and (subject is None or envelope.subject == subject)
            and (since is None or envelope.time >= since)
            and (until is None or envelope.time < until)
        )

    return matches


def _scan(outbox: Outbox, args: dict[str, Any]) -> tuple[list[Envelope], int]:
    """The matching events after ``after``, and the last position scanned."""
    matches = _matches(args)
    after, limit = args["after"], args["limit"]
    if matches is None:
        batch = outbox.read(after, limit)
        return batch.envelopes, batch.last_position
    found: list[Envelope] = []
    for _ in range(SCAN_PAGES):
        batch = outbox.read(after, limit)
        for envelope in batch.envelopes:
            if matches(envelope):
                found.append(envelope)
                if len(found) == limit:
                    return found, envelope.position
        if batch.last_position == after:  # nothing more in the log
            break
        after = batch.last_position
    return found, after


def _check_types(outbox: Outbox, args: dict[str, Any]) -> None:
    unknown = [t for t in args["type"] if t not in outbox.registry]
    if unknown:
        known = ", ".join(t.type for t in outbox.registry)
        abort(
            422,
            messages={
                "query": {"type": [f"unknown event type {t!r}; known: {known}" for t in unknown]}
            },
        )


def _page(outbox: Outbox, args: dict[str, Any]) -> dict[str, Any]:
    _check_types(outbox, args)
    events, last = _scan(outbox, args)
    head = outbox.head()
    if not events and last >= head and args["wait"] and _waiters.acquire(blocking=False):
        try:
            deadline = time.monotonic() + args["wait"]
            while time.monotonic() < deadline:
                time.sleep(WAIT_STEP)
                if outbox.head() > last:
                    events, last = _scan(outbox, {**args, "after": last})
                    if events:
                        break
            head = outbox.head()
        finally:
            _waiters.release()
    return {
        "events": [e.to_dict() for e in events],
        "next_after": None if last >= head else last,
        "head": head,
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
        @blp.alt_response(
            422,
            description="A parameter is invalid (named in errors), or an "
            "event type is unknown to this feed.",
        )
        def get(self, args: dict[str, Any]) -> dict[str, Any]:
            """Events after a position, in log order, optionally filtered.

            Pages: pass ``next_after`` back as ``after``. It is null when the page reached the
            head of the log; poll again later with ``after=<head>``, or long-poll with
            ``wait=``. Filters scan the log, so a filtered page may hold fewer than ``limit``
            events (even none) and still have a ``next_after``: keep following it.
            """
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
        @blp.response(200, RestrictedFeedPage())
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
    app.extensions["polku.api"].spec.components.schema(
        "RestrictedCloudEvent", component=cloudevent_component([outbox.registry], outbox.service)
    )
    app.extensions["polku.api"].register_blueprint(
        restricted_feed_blueprint(outbox.service, readers)
    )
