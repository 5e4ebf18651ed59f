"""Per-person views: the participant timeline.

A participant reads only their own; hr_admin, coordinators and auditors anyone's; a coach
only someone who is or was enrolled in a cohort they coach, and of that person only what is
not tied to another cohort. To a coach, anyone else does not exist (404). An erased person's
timeline is gone (410), at any as_of (:mod:`services.tracking.api.erased`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from marshmallow import Schema, fields

from services.tracking.api.arguments import ViewArgs, on_text
from services.tracking.api.base import (
    CSV_DOC,
    PERSON_READERS,
    person_scope,
    principal,
    respond,
    view_cursor,
)
from services.tracking.api.erased import GONE_DOC, refuse_erased
from services.tracking.views import timeline
from services.tracking.views.timeline_entries import KINDS
from shared.web.blueprint import Blueprint
from shared.web.pagination import PageArgs, PageSchema
from shared.web.problems import problem_doc
from shared.web.security import requires

ACTOR_READERS = ("auditor", "hr_admin")
"""Who sees who recorded each timeline entry."""

blp = Blueprint(
    "tracking-people",
    __name__,
    url_prefix="/tracking/people",
    description="Per-person views: what happened to one person.",
)


class TimelineArgs(ViewArgs, PageArgs):
    """``as_of`` and ``format``, and a page: ``after`` is how many entries came before."""


class TimelineEntry(Schema):
    on = fields.String(
        metadata={
            "description": "When it took effect (ISO date): the event's effective date, the"
            " session's day for attendance, the administration day for results, else the day"
            " it was recorded (UTC)."
        }
    )
    recorded_at = fields.String(metadata={"description": "When it was recorded (UTC)."})
    kind = fields.String(metadata={"description": ", ".join(KINDS)})
    cohort_id = fields.String(allow_none=True)
    details = fields.Dict(
        keys=fields.String(),
        metadata={
            "description": "Non-identifying fields per kind. Results carry `scores` only for"
            " the person's own (`self`) ratings; others' scores are never shown one by one."
        },
    )
    recorded_by = fields.String(
        allow_none=True,
        metadata={
            "description": "Who recorded it (role:subject), only for the roles that may see"
            " actors (auditor, hr_admin); null for events projected before actors were kept."
        },
    )


class Timeline(PageSchema):
    person_id = fields.String()
    erased = fields.Boolean(
        metadata={"description": "Always false: an erased person's timeline answers 410."}
    )
    count = fields.Integer(metadata={"description": "Entries in all, every page."})
    entries = fields.List(fields.Nested(TimelineEntry), metadata={"description": "This page."})
    as_of = fields.String(allow_none=True, metadata={"description": "The as_of asked for, if any."})
    on = fields.String(allow_none=True, metadata={"description": "The on asked for, if any."})


@blp.route("/<uuid:person_id>/timeline")
class PersonTimeline(MethodView):
    @requires(*PERSON_READERS)
    @blp.arguments(TimelineArgs(), location="query")
    @blp.response(200, Timeline())
    @blp.doc(**CSV_DOC)
    @blp.alt_response(
        404, **problem_doc("Not known to tracking (at as_of), or not in a cohort you coach.")
    )
    @blp.alt_response(410, **GONE_DOC)
    @blp.alt_response(422, **problem_doc("A bad as_of, format, after or limit (named)."))
    def get(self, args: dict[str, Any], person_id: UUID) -> Any:
        """Everything that happened to one person, in order, a page at a time.

        Invitations and their answers, the waitlist, enrolment, withdrawal or completion,
        attendance (with the session's title, delivery and day), peer groups, assessment
        results by wave (the instrument, wave and rater group; scores only for the person's
        own ratings), style profiles, corrections, placement changes, career moves (kind,
        scope, dates), attribute changes and erasure. Reaction responses are anonymous and
        never appear. Entries are ordered by `on`, then by when they were recorded.

        Pages: pass `next_after` back as `after`. Entries can be added before a page you
        have read when an earlier-dated event arrives; page with a fixed `as_of` to be sure
        of a stable order. CSV: every entry (all pages), one row each, `details` as
        `key: value; ...` text.

        With `on`, the entries dated on or before that day (by `on`), from the facts as they
        held then.

        Once the person is erased the timeline is gone (410) for every role, even `as_of` a
        moment before the erasure; cohort figures keep counting them.
        """
        person = str(person_id)
        with view_cursor(args) as cur:
            scope = person_scope(cur, person, "timeline")
            refuse_erased(person)
            view = timeline.timeline(
                cur,
                person,
                None if scope is None else set(scope),
                on_text(args),
                actors=principal().role in ACTOR_READERS,
            )
        if args["format"] != "csv":  # the CSV holds every entry
            view = timeline.page(view, args["after"], args["limit"])
        return respond(view, args, timeline.csv_table, f"timeline-{person}")
