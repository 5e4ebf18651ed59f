"""Enrolment HTTP API under ``/enrolment``: thin views over :class:`EnrolmentApplication`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from flask import Flask, current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from services.enrolment import schemas as s
from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain import Cohort, Person, Programme
from shared.outbox import Outbox
from shared.web.pagination import PageArgs
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.write_service import create_write_service_app

WRITERS = ("hr_admin", "coordinator")
READERS = ("hr_admin", "coordinator", "coach", "auditor")
PERSONAL_READERS = ("hr_admin", "coordinator", "auditor")

blp = Blueprint(
    "enrolment", __name__, url_prefix="/enrolment", description="Programmes, cohorts, people."
)


def app_() -> EnrolmentApplication:
    return current_app.extensions["polku.enrolment"]  # type: ignore[no-any-return]


def programme_view(p: Programme) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "organisation": p.organisation,
        "description": p.description,
        "goals": p.goals,
        "created_on": p.created_on,
    }


def cohort_view(c: Cohort) -> dict[str, Any]:
    return {
        "id": c.id,
        "programme_id": c.programme_id,
        "name": c.name,
        "capacity": c.capacity,
        "start_date": c.start_date,
        "end_date": c.end_date,
        "enrolled_count": len(c.enrolled),
        "created_on": c.created_on,
    }


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


def page(kind: str, args: dict[str, Any], view: Any) -> dict[str, Any]:
    result = app_().list(kind, args["after"], args["limit"])
    return {"items": [view(item) for item in result.items], "next_after": result.next_after}


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


@blp.route("/cohorts")
class Cohorts(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.CohortIn())
    @blp.response(201, s.CohortOut())
    @blp.alt_response(404, **problem_doc("The programme does not exist."))
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Plan a cohort of a programme. 404 if the programme does not exist."""
        cohort = app_().plan_cohort(
            body["programme_id"],
            body["name"],
            body["capacity"],
            body["start_date"],
            body["end_date"],
            event_meta(),
        )
        return cohort_view(cohort)

    @requires(*READERS)
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, s.CohortPage())
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List cohorts in the order they were planned."""
        return page("cohorts", args, cohort_view)


@blp.route("/cohorts/<uuid:cohort_id>")
class CohortById(MethodView):
    @requires(*READERS)
    @blp.alt_response(404, **problem_doc("No such cohort."))
    @blp.response(200, s.CohortOut())
    def get(self, cohort_id: UUID) -> dict[str, Any]:
        """One cohort."""
        return cohort_view(app_().cohort(cohort_id))


@blp.route("/cohorts/<uuid:cohort_id>/enrolments")
class Enrolments(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.EnrolmentIn())
    @blp.response(201, s.EnrolmentOut())
    @blp.alt_response(404, **problem_doc("The cohort or the person does not exist."))
    @blp.alt_response(409, **problem_doc("The cohort is full, or the person is already enrolled."))
    def post(self, body: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """Enrol a person in a cohort."""
        enrolled_at = app_().enrol(cohort_id, body["person_id"], event_meta())
        return {"cohort_id": cohort_id, "person_id": body["person_id"], "enrolled_at": enrolled_at}

    @requires(*READERS)
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, s.EnrolmentList())
    @blp.alt_response(404, **problem_doc("The cohort does not exist."))
    def get(self, args: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """Everyone enrolled in a cohort, in enrolment order, a page at a time.

        The cursor counts enrolments: ``after=50`` starts at the 51st person enrolled.
        """
        cohort = app_().cohort(cohort_id)
        enrolled = list(cohort.enrolled.items())  # in the order the events recorded them
        after, limit = args["after"], args["limit"]
        items = [
            {"cohort_id": cohort_id, "person_id": person_id, "enrolled_at": at}
            for person_id, at in enrolled[after : after + limit]
        ]
        more = after + limit < len(enrolled)
        return {
            "cohort_id": cohort_id,
            "capacity": cohort.capacity,
            "count": len(enrolled),
            "items": items,
            "next_after": after + limit if more else None,
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


def create_app(
    outbox: Outbox,
    jwt_secret: str,
    probes: Mapping[str, Callable[[], object]] | None = None,
) -> Flask:
    """The enrolment service's Flask app; ``probes`` add readiness checks (e.g. the broker)."""
    return create_write_service_app(
        outbox,
        title="Polku enrolment",
        description="Programmes, cohorts, people and enrolments. Every change is an event.",
        jwt_secret=jwt_secret,
        blueprints=[blp],
        probes=probes,
    )
