"""People: register, read, list."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from services.enrolment.api import schemas as s
from services.enrolment.api.access import PERSONAL_READERS, WRITERS, app_, page
from services.enrolment.domain.people import Person
from shared.web.pagination import PageArgs
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires

blp = Blueprint(
    "people",
    __name__,
    url_prefix="/enrolment",
    description="People and placements.",
)


def person_view(p: Person) -> dict[str, Any]:
    return {
        "id": p.id,
        "full_name": p.full_name,
        "email": p.email,
        "employee_number": p.employee_number,
        "organisation": p.organisation,
        "department": p.department,
        "unit": p.unit,
        "created_on": p.created_on,
    }


@blp.route("/people")
class People(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.PersonIn())
    @blp.response(201, s.PersonOut())
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a person. The returned id is the pseudonymous id used everywhere else."""
        return person_view(app_().register_person(body, event_meta()))

    @requires(*PERSONAL_READERS)
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, s.PersonPage())
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List people in the order they were registered."""
        return page("people", args, person_view)


@blp.route("/people/<uuid:person_id>")
class PersonById(MethodView):
    @requires(*PERSONAL_READERS, "participant")
    @blp.alt_response(404, **problem_doc("No such person."))
    @blp.response(200, s.PersonOut())
    def get(self, person_id: UUID) -> dict[str, Any]:
        """One person. A participant may read only their own record."""
        if g.principal.role == "participant" and g.principal.sub != str(person_id):
            abort(403, message="participants may read only their own record")
        return person_view(app_().person(person_id))
