"""People: register, read, list, change placement, erase, and import from CSV."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.enrolment.api import people_schemas as s
from services.enrolment.api.access import (
    PERSONAL_READERS,
    WRITERS,
    app_,
    check_own,
    offset_page,
)
from services.enrolment.application.people import PersonRecord
from services.enrolment.domain.careers import Placement
from services.enrolment.imports import import_people
from shared.imports import ImportResult, Progress, read_table
from shared.web.blueprint import Blueprint
from shared.web.idempotency import Redaction, leaves_no_trace
from shared.web.jobs import ImportJobOut, import_now_or_later, job_view
from shared.web.pagination import PageArgs
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.versions import expected_version

blp = Blueprint(
    "people",
    __name__,
    url_prefix="/enrolment",
    description="People, their placements and erasure. Personal fields are stored encrypted "
    "with a key per person; erasure deletes the key.",
)

ERASERS = ("hr_admin",)


def person_view(record: PersonRecord, on: dt.date | None = None) -> dict[str, Any]:
    """The person, placed as on ``on`` (default: today by the application's clock)."""
    p = record.person
    today = app_().today()
    placed = p.placement_at(on or today)
    return {
        "id": p.id,
        "full_name": record.full_name,
        "email": record.email,
        "employee_number": record.employee_number,
        "organisation": placed.organisation,
        "department": placed.department,
        "unit": placed.unit,
        "placed_on": on or today,
        "scheduled": [placement_view(s, today) for s in p.scheduled(today)],
        "role": p.role,
        "profession_category": p.profession_category,
        "education_level": p.education_level,
        "erased": p.erased,
        "erased_at": p.erased_at,
        "version": p.version,
        "created_on": p.created_on,
    }


PERSONAL_FIELDS = ("full_name", "email", "employee_number")


def _without_personal_fields(answer: Any) -> Any:
    """A person view as the idempotency store may keep it: the personal fields left out."""
    if isinstance(answer, dict) and "id" in answer and set(PERSONAL_FIELDS) <= set(answer):
        return {k: v for k, v in answer.items() if k not in PERSONAL_FIELDS}
    return answer


def _with_personal_fields(answer: Any) -> Any:
    """A kept person view made whole for a replay: the fields as they read now (null once
    the person is erased)."""
    if isinstance(answer, dict) and answer.get("erased") is not None and "id" in answer:
        record = app_().person(UUID(answer["id"]))
        return {**answer, **{name: getattr(record, name) for name in PERSONAL_FIELDS}}
    return answer


REDACTION = Redaction(_without_personal_fields, _with_personal_fields)
"""The stored answers of ``Idempotency-Key`` requests hold no personal data."""


def placement_view(placement: Placement, today: dt.date) -> dict[str, Any]:
    dated = placement.effective_date
    return {
        "organisation": placement.organisation,
        "department": placement.department,
        "unit": placement.unit,
        "effective_date": dated,
        "move_id": placement.move_id,
        "scheduled": dated is not None and dated > today,
    }


@blp.route("/people")
class People(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.PersonIn())
    @blp.response(201, s.PersonOut())
    @blp.alt_response(409, **problem_doc("The employee number belongs to someone registered."))
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a person. The returned id is the pseudonymous id used everywhere else."""
        return person_view(app_().register_person(body, event_meta()))

    @requires(*PERSONAL_READERS)
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, s.PersonPage())
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List people in the order they were registered."""
        records, next_after = app_().people(args["after"], args["limit"])
        return {"items": [person_view(r) for r in records], "next_after": next_after}


@blp.route("/people/<uuid:person_id>")
class PersonById(MethodView):
    @requires(*PERSONAL_READERS, "participant")
    @blp.arguments(s.PersonArgs(), location="query")
    @blp.alt_response(404, **problem_doc("No such person, or no such version."))
    @blp.response(200, s.PersonOut())
    def get(self, args: dict[str, Any], person_id: UUID) -> dict[str, Any]:
        """One person, placed as on `on` (default today). A participant may read only their
        own record.

        Placement changes dated after today are listed under `scheduled`: they are in force
        only from their date."""
        check_own(person_id)
        record = app_().person(person_id, version=args.get("version"))
        return person_view(record, args.get("on"))

    @requires(*WRITERS)
    @blp.arguments(s.PersonCorrectionIn())
    @blp.response(200, s.PersonOut())
    @blp.alt_response(404, **problem_doc("No such person."))
    @blp.alt_response(
        409,
        **problem_doc(
            "The employee number belongs to someone else registered, the person is erased, "
            "or If-Match is stale."
        ),
    )
    @blp.alt_response(422, **problem_doc("A field is malformed (named)."))
    def patch(self, body: dict[str, Any], person_id: UUID) -> dict[str, Any]:
        """Correct a person's name, e-mail address or employee number (any of them).

        The fields are sealed again under the person's same key: erasure still deletes every
        version at once, and ``?version=`` still reads what was recorded before. A corrected
        employee number stays unique (a 409 if someone else holds it). An empty body, or the
        values the person already has, is a 200 that records nothing. The published event
        names the corrected fields, never their values.
        """
        record = app_().correct_personal(person_id, body, event_meta(), expected_version())
        return person_view(record)


@blp.route("/people/<uuid:person_id>/placements")
class Placements(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.PlacementIn())
    @blp.response(201, s.PersonOut())
    @blp.alt_response(404, **problem_doc("No such person."))
    @blp.alt_response(409, **problem_doc("The person was erased, or If-Match is stale."))
    def post(self, body: dict[str, Any], person_id: UUID) -> dict[str, Any]:
        """Move a person to another department or unit from an effective date.

        A date after today is a *scheduled* change: stored now, listed as scheduled, and the
        person's placement only from that date. A second change for the same date corrects the
        first; the history keeps both events.
        """
        record = app_().change_placement(
            person_id,
            body["department"],
            body["unit"],
            body["effective_date"],
            event_meta(),
            organisation=body["organisation"],
            expected_version=expected_version(),
        )
        return person_view(record)

    @requires(*PERSONAL_READERS, "participant")
    @blp.arguments(s.PlacementArgs(), location="query")
    @blp.response(200, s.PlacementHistory())
    @blp.alt_response(404, **problem_doc("No such person, or no such version."))
    def get(self, args: dict[str, Any], person_id: UUID) -> dict[str, Any]:
        """The person's placements by effective date, the registration's first; the cursor
        counts placements. Those dated after today are `scheduled`.

        With `on`: only the placement in force on that day (past or future)."""
        check_own(person_id)
        app = app_()
        placements = app.placements(person_id, version=args.get("version"))
        if args.get("on") is not None:
            placements = [app.placement_on(person_id, args["on"], args.get("version"))]
        items, next_after = offset_page(placements, args)
        today = app.today()
        return {
            "person_id": person_id,
            "on": args.get("on"),
            "count": len(placements),
            "items": [placement_view(p, today) for p in items],
            "next_after": next_after,
        }


@blp.route("/people/<uuid:person_id>/erasure")
class Erasure(MethodView):
    @requires(*ERASERS)
    @blp.response(200, s.ErasureOut())
    @blp.alt_response(404, **problem_doc("No such person."))
    @blp.alt_response(409, **problem_doc("The person is erased already, or If-Match is stale."))
    def post(self, person_id: UUID) -> dict[str, Any]:
        """Erase a person's name, e-mail and employee number, for good.

        Their key is deleted, so every stored copy of those fields becomes unreadable; the
        pseudonymous record (placements, career moves, enrolments) stays. Erasing again is a 409.
        """
        record = app_().erase_person(person_id, event_meta(), expected_version())
        return {"person_id": person_id, "erased": True, "erased_at": record.person.erased_at}


@blp.route("/people/imports")
class PeopleImports(MethodView):
    @leaves_no_trace  # idempotent by itself; a kept fingerprint would hash the people's data
    @requires(*WRITERS)
    @blp.arguments(s.PeopleImportIn())
    @blp.response(200, s.ImportResultOut())
    @blp.alt_response(202, schema=ImportJobOut, description="A large file: the import job.")
    @blp.alt_response(422, **problem_doc("Some rows are wrong; nothing was imported."))
    @blp.alt_response(409, **problem_doc("Someone registered one of the numbers meanwhile."))
    def post(self, body: dict[str, Any]) -> Any:
        """Register people from an HR register extract (CSV), all rows or none.

        Rows whose employee number is registered already count as unchanged, so importing the
        same file again registers no one twice. ``dry_run`` checks and counts, writing nothing.
        A file of up to 1,000 rows is imported within the request (200, or 422 listing every
        problem). A larger one answers 202 with an import job at once; poll its ``Location``
        (``GET /enrolment/people/imports/{job_id}``) for progress, the result or every problem.
        """
        table = read_table(body["csv"])
        app, meta, dry_run = app_(), event_meta(), body["dry_run"]

        def run(progress: Progress | None) -> ImportResult:
            return import_people(app, table, meta, dry_run=dry_run, progress=progress)

        return import_now_or_later("people", len(table.rows), run, "/enrolment/people/imports")


@blp.route("/people/imports/<uuid:job_id>")
class PeopleImportJob(MethodView):
    @requires(*WRITERS)
    @blp.response(200, ImportJobOut())
    @blp.alt_response(404, **problem_doc("No such job, or not one you started."))
    def get(self, job_id: UUID) -> dict[str, Any]:
        """A people import job: state (running, succeeded, failed), rows done of the total, and
        in the end the result or every row's problem. Jobs are kept in the service's memory
        (the latest 100); a coordinator sees the jobs they started, an hr_admin every job."""
        return job_view(job_id)
