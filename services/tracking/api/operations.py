"""The roster and the projector's status: what operators check first."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields

from services.tracking.api.arguments import AsOf, On, as_of_text, on_text
from services.tracking.api.base import VIEWERS, check_cohort_access, readmodels, view_cursor
from services.tracking.readmodels import roster_page
from shared.web.blueprint import Blueprint
from shared.web.pagination import PageArgs, PageSchema
from shared.web.problems import problem_doc
from shared.web.security import requires

OPERATORS = ("hr_admin", "auditor", "service")

blp = Blueprint("tracking", __name__, url_prefix="/tracking", description="Projected views.")


class RosterEntry(Schema):
    person_id = fields.String(metadata={"description": "Pseudonymous id."})
    department = fields.String(allow_none=True, metadata={"description": "Null until known."})
    unit = fields.String(allow_none=True)
    enrolled_at = fields.String()
    status = fields.String(metadata={"description": "enrolled, completed or withdrawn."})


class RosterArgs(PageArgs):
    as_of = AsOf(
        load_default=None,
        metadata={
            "description": "The roster from the events recorded up to this moment (ISO 8601"
            " with offset, or a date: the end of that day, UTC), as it stood then. Default: now."
        },
    )
    on = On(
        load_default=None,
        metadata={
            "description": "The roster as it stood at the end of this day by the"
            " enrolment and withdrawal dates (ISO date, not in the future)."
        },
    )


class Roster(PageSchema):
    cohort_id = fields.UUID()
    as_of = fields.String(allow_none=True)
    on = fields.String(allow_none=True)
    count = fields.Integer(metadata={"description": "Participants enrolled in all, every page."})
    participants = fields.List(fields.Nested(RosterEntry), metadata={"description": "This page."})


class SourceStatus(Schema):
    source = fields.String()
    partition = fields.Integer()
    position = fields.Integer(
        allow_none=True, metadata={"description": "Last position consumed (log id or offset)."}
    )
    last_event_position = fields.Integer(
        allow_none=True, metadata={"description": "Source-log position of the last event."}
    )
    head = fields.Integer(allow_none=True, metadata={"description": "Newest position known."})
    head_checked_at = fields.String(allow_none=True)
    lag = fields.Integer(allow_none=True, metadata={"description": "head - position."})
    events_applied = fields.Integer()
    dead_lettered = fields.Integer()
    updated_at = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)


class ProjectorError(Schema):
    source = fields.String(metadata={"description": "A source, or the feed (kafka, http, …)."})
    error = fields.String()
    at = fields.String()


class Status(Schema):
    feed = fields.String(allow_none=True)
    sources = fields.List(fields.Nested(SourceStatus))
    errors = fields.List(
        fields.Nested(ProjectorError),
        metadata={"description": "The last error per source or feed, newest first."},
    )


@blp.route("/cohorts/<uuid:cohort_id>/roster")
class CohortRoster(MethodView):
    @requires(*VIEWERS)
    @blp.arguments(RosterArgs(), location="query")
    @blp.response(200, Roster())
    @blp.alt_response(
        404, **problem_doc("The cohort is not known to tracking (yet), or not one you coach.")
    )
    def get(self, args: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """Everyone enrolled, by pseudonymous id, department, enrolment time and status.

        In enrolment order, a page at a time: pass ``next_after`` back as ``after``. A coach
        reaches only the rosters of the cohorts they coach. With ``as_of``, the roster as it
        stood then.
        """
        with view_cursor(args) as cur:
            cur.execute("SELECT 1 FROM tr_cohorts WHERE cohort_id = ?", (str(cohort_id),))
            if cur.fetchone() is None:
                abort(404, message=f"cohort {cohort_id} is not known to tracking (yet)")
            check_cohort_access(cur, str(cohort_id))
            page = roster_page(cur, str(cohort_id), args["after"], args["limit"])
        return {
            "cohort_id": cohort_id,
            "as_of": as_of_text(args),
            "on": on_text(args),
            "count": page.total,
            "participants": page.participants,
            "next_after": page.next_after,
        }


@blp.route("/status")
class ProjectionStatus(MethodView):
    @requires(*OPERATORS, "coordinator")
    @blp.response(200, Status())
    def get(self) -> dict[str, Any]:
        """Per source and partition: last position projected, head, lag, events applied."""
        status = readmodels().status()
        errors = [
            {"source": source, "error": e["error"], "at": e["at"]}
            for source, e in sorted(status["errors"].items(), key=lambda kv: kv[1]["at"])
        ]
        return {
            "feed": current_app.extensions.get("polku.feed_kind"),
            "sources": status["sources"],
            "errors": errors[::-1],
        }


class LoggedQuery(Schema):
    at = fields.String(metadata={"description": "When the request was answered (UTC)."})
    subject = fields.String(metadata={"description": "The auditor's token subject."})
    role = fields.String()
    method = fields.String()
    path = fields.String()
    query = fields.String(metadata={"description": "The query string as sent."})
    status = fields.Integer(metadata={"description": "The HTTP status of the answer."})


class QueryLog(PageSchema):
    count = fields.Integer(metadata={"description": "Logged queries in all."})
    items = fields.List(fields.Nested(LoggedQuery), metadata={"description": "Oldest first."})


@blp.route("/audit/queries")
class AuditorQueries(MethodView):
    @requires("hr_admin", "auditor")
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, QueryLog())
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Every tracking request an auditor made, oldest first, with its outcome.

        Auditors read everything, so what they read is itself on record (reading this log
        is logged too). ``after`` counts the entries already seen.
        """
        return readmodels().query_log(args["after"], args["limit"])
