"""Cohorts: plan, list, read (as of a version), move through the lifecycle, assign coaches."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import g
from flask.views import MethodView

from services.enrolment.api import cohort_schemas as s
from services.enrolment.api.access import READERS, WRITERS, app_, check_cohort_access
from services.enrolment.domain.cohorts import Cohort
from shared.auth import subject_reference
from shared.web import jwt_secret
from shared.web.blueprint import Blueprint
from shared.web.pagination import PageArgs
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.versions import VersionArgs, expected_version

blp = Blueprint(
    "cohorts",
    __name__,
    url_prefix="/enrolment",
    description="Cohorts, their lifecycle and coaches.",
)


def cohort_view(c: Cohort) -> dict[str, Any]:
    return {
        "id": c.id,
        "programme_id": c.programme_id,
        "name": c.name,
        "capacity": c.capacity,
        "start_date": c.start_date,
        "end_date": c.end_date,
        "funding_source": c.funding_source,
        "status": c.status,
        "status_changes": c.status_changes,
        "cancellation_reason": c.cancellation_reason,
        "enrolled_count": c.places_taken,
        "waitlist_count": len(c.waitlist),
        "coaches": c.coaches,
        "version": c.version,
        "created_on": c.created_on,
    }


def readable_cohort(cohort_id: UUID, version: int | None = None) -> Cohort:
    """The cohort, if the caller may read it: a coach only their own (as they are now)."""
    cohort = app_().cohort(cohort_id, version=version)
    check_cohort_access(app_().cohort(cohort_id).coaches if version else cohort.coaches)
    return cohort


@blp.route("/cohorts")
class Cohorts(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.CohortIn())
    @blp.response(201, s.CohortOut())
    @blp.alt_response(404, **problem_doc("The programme does not exist."))
    @blp.alt_response(409, **problem_doc("The programme is retired."))
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Plan a cohort of a programme."""
        cohort = app_().plan_cohort(
            body["programme_id"],
            body["name"],
            body["capacity"],
            body["start_date"],
            body["end_date"],
            event_meta(),
            funding_source=body.get("funding_source"),
        )
        return cohort_view(cohort)

    @requires(*READERS)
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, s.CohortPage())
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List cohorts in the order they were planned.

        A coach sees only the cohorts they are assigned to, so a coach's page may hold fewer
        than ``limit`` items; follow ``next_after`` until it is null.
        """
        result = app_().list("cohorts", args["after"], args["limit"])
        items = result.items
        if g.principal.role == "coach":
            items = [c for c in items if g.principal.sub in c.coaches]
        return {"items": [cohort_view(c) for c in items], "next_after": result.next_after}


@blp.route("/cohorts/<uuid:cohort_id>")
class CohortById(MethodView):
    @requires(*READERS)
    @blp.arguments(VersionArgs(), location="query")
    @blp.alt_response(404, **problem_doc("No such cohort, or no such version of it."))
    @blp.response(200, s.CohortOut())
    def get(self, args: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """One cohort, as it is now or as it was at ``?version=``."""
        return cohort_view(readable_cohort(cohort_id, args.get("version")))


def _transition(name: str, verb: str, schema: type[s.OnIn], doc: str) -> type[MethodView]:
    class Transition(MethodView):
        @requires(*WRITERS)
        @blp.arguments(schema())
        @blp.response(200, s.CohortOut())
        @blp.alt_response(404, **problem_doc("No such cohort."))
        @blp.alt_response(
            409, **problem_doc("Not allowed from the current status (named), or stale If-Match.")
        )
        @blp.alt_response(422, **problem_doc("An effective date in the future, or no reason."))
        def post(self, body: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
            cohort = app_().change_cohort_status(
                cohort_id,
                name,
                event_meta(),
                reason=body.get("reason"),
                on=body.get("on"),
                expected_version=expected_version(),
            )
            return cohort_view(cohort)

    Transition.post.__doc__ = doc
    Transition.__name__ = f"Cohort{verb}"
    blp.route(f"/cohorts/<uuid:cohort_id>/{name}")(Transition)
    return Transition


_transition("open", "Opening", s.OnIn, "Open a planned cohort for invitations and enrolment.")
_transition("start", "Start", s.OnIn, "Start an open cohort: it is running.")
_transition("complete", "Completion", s.OnIn, "Complete a running cohort.")
_transition("cancel", "Cancellation", s.ReasonIn, "Cancel a cohort that has not ended (reason).")


@blp.route("/cohorts/<uuid:cohort_id>/coaches")
class CohortCoaches(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.CoachIn())
    @blp.response(200, s.CohortOut())
    @blp.alt_response(404, **problem_doc("No such cohort."))
    @blp.alt_response(409, **problem_doc("Already assigned, cancelled cohort, or stale If-Match."))
    def post(self, body: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """Assign a coach (by token subject): they may then read the cohort and take attendance.

        The published event names the coach only by a keyed hash of the subject, which the
        other services (sharing the token secret) can match against a caller's token.
        """
        coach = body["coach"]
        cohort = app_().assign_coach(
            cohort_id,
            coach,
            subject_reference(jwt_secret(), coach),
            event_meta(),
            expected_version=expected_version(),
        )
        return cohort_view(cohort)
