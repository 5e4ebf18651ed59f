"""Cohorts and enrolments."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from services.enrolment.api import schemas as s
from services.enrolment.api.access import READERS, WRITERS, app_, page
from services.enrolment.domain.cohorts import Cohort
from shared.web.pagination import PageArgs
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires

blp = Blueprint(
    "cohorts",
    __name__,
    url_prefix="/enrolment",
    description="Cohorts and enrolments.",
)


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
