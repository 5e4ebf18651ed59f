"""Programmes: define, list, read."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from services.enrolment.api import schemas as s
from services.enrolment.api.access import READERS, WRITERS, app_, page
from services.enrolment.domain.programmes import Programme
from shared.web.pagination import PageArgs
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires

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
    @blp.alt_response(404, **problem_doc("No such programme."))
    @blp.response(200, s.ProgrammeOut())
    def get(self, programme_id: UUID) -> dict[str, Any]:
        """One programme."""
        return programme_view(app_().programme(programme_id))
