"""Career moves: record, end, list (on the person whose career it is)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.enrolment.api import people_schemas as s
from services.enrolment.api.access import PERSONAL_READERS, WRITERS, app_, check_own, offset_page
from services.enrolment.api.cohort_schemas import VersionedPageArgs
from services.enrolment.domain.careers import CareerMove
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.versions import expected_version

blp = Blueprint(
    "careers",
    __name__,
    url_prefix="/enrolment",
    description="Career moves: rotations, transfers, new posts, promotions, secondments, "
    "leaving the state. A permanent move changes the person's placement from its start date.",
)


def move_view(person_id: UUID, move: CareerMove) -> dict[str, Any]:
    return {
        "id": move.id,
        "person_id": person_id,
        "kind": move.kind.value,
        "organisation": move.organisation,
        "department": move.department,
        "unit": move.unit,
        "scope": move.scope.value,
        "scope_derived": move.scope_derived,
        "start_date": move.start_date,
        "planned_end_date": move.planned_end_date,
        "end_date": move.end_date,
        "scheduled": move.start_date > app_().today(),
    }


@blp.route("/people/<uuid:person_id>/career-moves")
class CareerMoves(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.CareerMoveIn())
    @blp.response(201, s.CareerMoveOut())
    @blp.alt_response(404, **problem_doc("No such person."))
    @blp.alt_response(
        409, **problem_doc("It overlaps another rotation, the person was erased, or stale.")
    )
    def post(self, body: dict[str, Any], person_id: UUID) -> dict[str, Any]:
        """Record a career move. The scope is derived where the data allows (422 naming
        ``scope`` when it must be given, or when the given one contradicts the data).

        A move starting after today is *scheduled*: stored now, listed with `scheduled`, and
        (a permanent one) the person's placement only from its start date. It is refused only
        where it contradicts something (an overlapping rotation, a scope the placement on its
        start date rules out)."""
        move = app_().record_career_move(
            person_id,
            body["kind"],
            body["organisation"],
            body["start_date"],
            event_meta(),
            department=body["department"],
            unit=body["unit"],
            planned_end_date=body["planned_end_date"],
            end_date=body["end_date"],
            scope=body["scope"],
            expected_version=expected_version(),
        )
        return move_view(person_id, move)

    @requires(*PERSONAL_READERS, "participant")
    @blp.arguments(VersionedPageArgs(), location="query")
    @blp.response(200, s.CareerMoveList())
    @blp.alt_response(404, **problem_doc("No such person, or no such version."))
    def get(self, args: dict[str, Any], person_id: UUID) -> dict[str, Any]:
        """The person's career moves by start date; the cursor counts moves."""
        check_own(person_id)
        moves = app_().career_moves(person_id, version=args.get("version"))
        items, next_after = offset_page(moves, args)
        return {
            "person_id": person_id,
            "count": len(moves),
            "items": [move_view(person_id, m) for m in items],
            "next_after": next_after,
        }


@blp.route("/people/<uuid:person_id>/career-moves/<uuid:move_id>/end")
class CareerMoveEnd(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.MoveEndIn())
    @blp.response(200, s.CareerMoveOut())
    @blp.alt_response(404, **problem_doc("No such person or move."))
    @blp.alt_response(409, **problem_doc("Ended already, overlapping, erased, or stale."))
    def post(self, body: dict[str, Any], person_id: UUID, move_id: UUID) -> dict[str, Any]:
        """Record when a rotation or secondment actually ended (422 for a permanent move)."""
        move = app_().end_career_move(
            person_id, move_id, body["end_date"], event_meta(), expected_version()
        )
        return move_view(person_id, move)
