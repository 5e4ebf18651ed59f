"""The changes coordinators make to a cohort after planning it: its capacity, its window, and
taking back an invitation sent by mistake.

Raising the capacity seats the waitlist's head, first in first out; lowering it below the
places taken is a 409. Moving the window is a 409 naming every scheduled or held session it
would leave outside. An invitation taken back leaves the person as they were before it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.enrolment.api import cohort_schemas as s
from services.enrolment.api.access import WRITERS, app_
from services.enrolment.api.cohorts import cohort_view
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.validation import PlausibleDate
from shared.web.versions import expected_version

blp = Blueprint(
    "cohort_changes",
    __name__,
    url_prefix="/enrolment",
    description="Changes to a planned cohort: capacity, window, invitations taken back.",
)

NOT_FOUND = problem_doc("No such cohort.")


class CapacityIn(s.OnIn):
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10000))


class CapacityOut(s.CohortOut):
    promoted = fields.List(
        fields.UUID(),
        metadata={"description": "Whom the change seated from the waitlist, in their order."},
    )


class WindowIn(Schema):
    start_date = PlausibleDate(required=True)
    end_date = PlausibleDate(required=True)

    @validates_schema
    def check_window(self, data: dict[str, Any], **_: Any) -> None:
        if "start_date" in data and "end_date" in data and data["end_date"] <= data["start_date"]:
            raise ValidationError("end_date must be after start_date", field_name="end_date")


class InvitationWithdrawalIn(s.ReasonIn):
    pass


class InvitationWithdrawalOut(Schema):
    cohort_id = fields.UUID()
    person_id = fields.UUID()
    status = fields.String(
        allow_none=True,
        metadata={
            "description": "Where the person stands now: declined or withdrawn as before a "
            "repeat invitation, or null when the cohort no longer knows them."
        },
    )


@blp.route("/cohorts/<uuid:cohort_id>/capacity")
class Capacity(MethodView):
    @requires(*WRITERS)
    @blp.arguments(CapacityIn())
    @blp.response(200, CapacityOut())
    @blp.alt_response(404, **NOT_FOUND)
    @blp.alt_response(
        409,
        **problem_doc(
            "Below the places taken (capacity), the cohort is not live, or stale If-Match."
        ),
    )
    @blp.alt_response(422, **problem_doc("Capacity below 1, or an effective date in the future."))
    def post(self, body: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """Change a cohort's capacity (planned, open or running cohorts).

        Raising it seats people from the waitlist, first in first out, on ``on`` (default
        today), each no earlier than they joined the waitlist; ``promoted`` lists them.
        Lowering it below the number holding places is a 409: withdraw someone first.
        """
        cohort, promoted = app_().change_capacity(
            cohort_id, body["capacity"], event_meta(), body.get("on"), expected_version()
        )
        return {**cohort_view(cohort), "promoted": promoted}


@blp.route("/cohorts/<uuid:cohort_id>/window")
class Window(MethodView):
    @requires(*WRITERS)
    @blp.arguments(WindowIn())
    @blp.response(200, s.CohortOut())
    @blp.alt_response(404, **NOT_FOUND)
    @blp.alt_response(
        409,
        **problem_doc(
            "Sessions would fall outside the new window (each named in ``errors``, their ids "
            "in ``sessions``), the cohort is not live, or stale If-Match."
        ),
    )
    @blp.alt_response(422, **problem_doc("end_date not after start_date, or an implausible date."))
    def post(self, body: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """Move a cohort's window (planned, open or running cohorts).

        Every session still on the calendar (scheduled or held) must stay inside it: a move
        that would strand any is a 409 naming them all; reschedule or cancel them first.
        Giving the current window again changes nothing.
        """
        cohort = app_().move_window(
            cohort_id, body["start_date"], body["end_date"], event_meta(), expected_version()
        )
        return cohort_view(cohort)


@blp.route("/cohorts/<uuid:cohort_id>/invitations/<uuid:person_id>/withdraw")
class InvitationWithdrawal(MethodView):
    @requires(*WRITERS)
    @blp.arguments(InvitationWithdrawalIn())
    @blp.response(200, InvitationWithdrawalOut())
    @blp.alt_response(404, **problem_doc("No such cohort, or the person is not in it."))
    @blp.alt_response(
        409,
        **problem_doc(
            "The person has no open invitation (they replied to it, or were never invited), "
            "the cohort is not live, or stale If-Match."
        ),
    )
    @blp.alt_response(
        422,
        **problem_doc("No reason, or an effective date in the future or before the invitation."),
    )
    def post(self, body: dict[str, Any], cohort_id: UUID, person_id: UUID) -> dict[str, Any]:
        """Take back an invitation sent by mistake, with a reason.

        Only an open invitation (not yet accepted or declined) can be taken back. The person
        is left as before it: unknown to the cohort after a first invitation (the funnel no
        longer counts them invited), or declined or withdrawn as before a repeat one.
        """
        cohort = app_().withdraw_invitation(
            cohort_id,
            person_id,
            body["reason"],
            event_meta(),
            body.get("on"),
            expected_version(),
        )
        record = cohort.participations.get(person_id)
        status = None if record is None else record.status
        return {"cohort_id": cohort_id, "person_id": person_id, "status": status}
