"""Programmes: define, list, read (as of a version), add goals, retire."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.enrolment.api import cohort_schemas as s
from services.enrolment.api.access import READERS, WRITERS, app_, page
from services.enrolment.domain.programmes import Programme
from shared.web.blueprint import Blueprint
from shared.web.pagination import PageArgs
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.versions import VersionArgs, expected_version

blp = Blueprint(
    "programmes", __name__, url_prefix="/enrolment", description="Programmes and their goals."
)


def programme_view(p: Programme) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "organisation": p.organisation,
        "description": p.description,
        "goals": p.goals,
        "status": "retired" if p.retired else "active",
        "retired_on": p.retired_on,
        "retirement_reason": p.retirement_reason,
        "version": p.version,
        "created_on": p.created_on,
    }


@blp.route("/programmes")
class Programmes(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.ProgrammeIn())
    @blp.response(201, s.ProgrammeOut())
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Define a programme."""
        programme = app_().define_programme(
            body["name"],
            body["organisation"],
            event_meta(),
            description=body["description"],
            goals=tuple(body["goals"]),
        )
        return programme_view(programme)

    @requires(*READERS)
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, s.ProgrammePage())
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List programmes in the order they were defined."""
        return page("programmes", args, programme_view)


@blp.route("/programmes/<uuid:programme_id>")
class ProgrammeById(MethodView):
    @requires(*READERS)
    @blp.arguments(VersionArgs(), location="query")
    @blp.alt_response(404, **problem_doc("No such programme, or no such version of it."))
    @blp.response(200, s.ProgrammeOut())
    def get(self, args: dict[str, Any], programme_id: UUID) -> dict[str, Any]:
        """One programme, as it is now or as it was at ``?version=``."""
        return programme_view(app_().programme(programme_id, version=args.get("version")))


@blp.route("/programmes/<uuid:programme_id>/goals")
class ProgrammeGoals(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.GoalIn())
    @blp.response(201, s.ProgrammeOut())
    @blp.alt_response(404, **problem_doc("No such programme."))
    @blp.alt_response(409, **problem_doc("Retired, the goal is listed already, or stale If-Match."))
    def post(self, body: dict[str, Any], programme_id: UUID) -> dict[str, Any]:
        """Add a goal to a programme; answers with the programme."""
        programme = app_().add_programme_goal(
            programme_id, body["goal"], event_meta(), expected_version=expected_version()
        )
        return programme_view(programme)


@blp.route("/programmes/<uuid:programme_id>/retirement")
class ProgrammeRetirement(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.ReasonIn())
    @blp.response(200, s.ProgrammeOut())
    @blp.alt_response(404, **problem_doc("No such programme."))
    @blp.alt_response(409, **problem_doc("Already retired, or stale If-Match."))
    @blp.alt_response(422, **problem_doc("No reason, or an effective date in the future."))
    def post(self, body: dict[str, Any], programme_id: UUID) -> dict[str, Any]:
        """Retire a programme: it plans and opens no new cohorts from then on."""
        programme = app_().retire_programme(
            programme_id,
            body["reason"],
            event_meta(),
            on=body.get("on"),
            expected_version=expected_version(),
        )
        return programme_view(programme)
