"""Invitations, enrolments and the waitlist of a cohort, and a person's enrolments."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.enrolment.api import cohort_schemas as s
from services.enrolment.api.access import (
    PERSONAL_READERS,
    READERS,
    WRITERS,
    app_,
    check_own,
    offset_page,
)
from services.enrolment.api.cohorts import readable_cohort
from services.enrolment.domain.cohorts import Cohort
from shared.web.blueprint import Blueprint
from shared.web.pagination import PageArgs
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.versions import expected_version

blp = Blueprint(
    "enrolments",
    __name__,
    url_prefix="/enrolment",
    description="Invitations, enrolments and the first-in, first-out waitlist.",
)

NOT_FOUND = problem_doc("No such cohort, or the person is not registered or not in it.")
CONFLICT = problem_doc(
    "Not allowed in the person's or the cohort's current state (named), or stale If-Match."
)
FUTURE = problem_doc("An effective date in the future, or before an earlier step.")


def enrolment_view(cohort: Cohort, person_id: UUID) -> dict[str, Any]:
    p = cohort.participation(person_id)
    return {
        "cohort_id": cohort.id,
        "person_id": person_id,
        "status": p.status,
        "invited_on": p.invited_on,
        "declined_on": p.declined_on,
        "decline_reason": p.decline_reason,
        "enrolled_at": p.enrolled_at,
        "enrolled_on": p.enrolled_on,
        "waitlisted_on": p.waitlisted_on,
        "waitlist_position": cohort.waitlist_position(person_id),
        "withdrawn_on": p.withdrawn_on,
        "withdrawal_reason": p.withdrawal_reason,
        "completed_on": p.completed_on,
    }


# Invitations -------------------------------------------------------------------------------


def people_page(cohort: Cohort, people: list[UUID], args: dict[str, Any]) -> dict[str, Any]:
    """A page of where ``people`` stand in ``cohort``; the cursor counts people."""
    items, next_after = offset_page(people, args)
    return {
        "cohort_id": cohort.id,
        "capacity": cohort.capacity,
        "count": len(people),
        "items": [enrolment_view(cohort, person_id) for person_id in items],
        "next_after": next_after,
    }


@blp.route("/cohorts/<uuid:cohort_id>/invitations")
class Invitations(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.InvitationIn())
    @blp.response(201, s.InvitationOut())
    @blp.alt_response(404, **NOT_FOUND)
    @blp.alt_response(409, **CONFLICT)
    @blp.alt_response(422, **FUTURE)
    def post(self, body: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """Invite a person. First invitations go out while the cohort is planned or open;
        someone who declined or withdrew is invited again only while it is open."""
        person_id = body["person_id"]
        cohort = app_().invite(
            cohort_id, person_id, event_meta(), body.get("on"), expected_version()
        )
        return {"cohort_id": cohort.id, "person_id": person_id, "status": "invited"}

    @requires(*READERS)
    @blp.arguments(s.VersionedPageArgs(), location="query")
    @blp.response(200, s.EnrolmentList())
    @blp.alt_response(404, **problem_doc("The cohort does not exist, or no such version."))
    def get(self, args: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """Everyone ever invited, in the order first invited, with where they stand now
        (invited, declined, waitlisted, enrolled, ...); the cursor counts people."""
        cohort = readable_cohort(cohort_id, args.get("version"))
        people = [p.person_id for p in cohort.participations.values() if p.invited_on]
        return people_page(cohort, people, args)


@blp.route("/cohorts/<uuid:cohort_id>/invitations/<uuid:person_id>/accept")
class InvitationAcceptance(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.OnIn())
    @blp.response(200, s.InvitationOut())
    @blp.alt_response(404, **NOT_FOUND)
    @blp.alt_response(409, **CONFLICT)
    @blp.alt_response(422, **FUTURE)
    def post(self, body: dict[str, Any], cohort_id: UUID, person_id: UUID) -> dict[str, Any]:
        """Accept an invitation (open cohorts only): enrolled, or waitlisted when full."""
        cohort = app_().accept_invitation(
            cohort_id, person_id, event_meta(), body.get("on"), expected_version()
        )
        view = enrolment_view(cohort, person_id)
        return {k: view[k] for k in ("cohort_id", "person_id", "status", "waitlist_position")}


@blp.route("/cohorts/<uuid:cohort_id>/invitations/<uuid:person_id>/decline")
class InvitationDecline(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.OptionalReasonIn())
    @blp.response(200, s.InvitationOut())
    @blp.alt_response(404, **NOT_FOUND)
    @blp.alt_response(409, **CONFLICT)
    @blp.alt_response(422, **FUTURE)
    def post(self, body: dict[str, Any], cohort_id: UUID, person_id: UUID) -> dict[str, Any]:
        """Decline an invitation."""
        app_().decline_invitation(
            cohort_id,
            person_id,
            event_meta(),
            body.get("reason"),
            body.get("on"),
            expected_version(),
        )
        return {"cohort_id": cohort_id, "person_id": person_id, "status": "declined"}


# Enrolments --------------------------------------------------------------------------------


@blp.route("/cohorts/<uuid:cohort_id>/enrolments")
class Enrolments(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.EnrolmentIn())
    @blp.response(201, s.EnrolmentOut())
    @blp.alt_response(404, **problem_doc("The cohort or the person does not exist."))
    @blp.alt_response(
        409, **problem_doc("Already enrolled, waitlisted or invited; or the cohort's status.")
    )
    @blp.alt_response(422, **FUTURE)
    def post(self, body: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """Enrol a person directly (no invitation), while the cohort is planned, open or
        running. Beyond capacity they join the end of the waitlist (status ``waitlisted``)."""
        person_id = body["person_id"]
        cohort = app_().admit(
            cohort_id, person_id, event_meta(), body.get("on"), expected_version()
        )
        return enrolment_view(cohort, person_id)

    @requires(*READERS)
    @blp.arguments(s.EnrolmentArgs(), location="query")
    @blp.response(200, s.EnrolmentList())
    @blp.alt_response(404, **problem_doc("The cohort does not exist, or no such version."))
    def get(self, args: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """Everyone ever enrolled (enrolled, completed, withdrawn), in enrolment order.

        ``?status=`` keeps one of those; the cursor counts people: ``after=50`` starts at the
        51st. ``count`` is how many match, on every page.
        """
        cohort = readable_cohort(cohort_id, args.get("version"))
        wanted = args.get("status")
        people = [p.person_id for p in cohort.ever_enrolled() if wanted in (None, p.status)]
        return people_page(cohort, people, args)


@blp.route("/cohorts/<uuid:cohort_id>/enrolments/<uuid:person_id>/withdraw")
class Withdrawal(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.ReasonIn())
    @blp.response(200, s.WithdrawalOut())
    @blp.alt_response(404, **NOT_FOUND)
    @blp.alt_response(409, **CONFLICT)
    @blp.alt_response(422, **FUTURE)
    def post(self, body: dict[str, Any], cohort_id: UUID, person_id: UUID) -> dict[str, Any]:
        """Withdraw someone enrolled. The head of the waitlist takes the place, effective the
        same day; ``promoted_person_id`` says who (null if nobody waited). Someone on the
        waitlist leaves it the same way (while the cohort is planned, open or running); the
        others keep their order."""
        cohort, promoted = app_().withdraw(
            cohort_id, person_id, body["reason"], event_meta(), body.get("on"), expected_version()
        )
        return enrolment_view(cohort, person_id) | {"promoted_person_id": promoted}


@blp.route("/cohorts/<uuid:cohort_id>/enrolments/<uuid:person_id>/complete")
class Completion(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.OnIn())
    @blp.response(200, s.EnrolmentOut())
    @blp.alt_response(404, **NOT_FOUND)
    @blp.alt_response(409, **CONFLICT)
    @blp.alt_response(422, **FUTURE)
    def post(self, body: dict[str, Any], cohort_id: UUID, person_id: UUID) -> dict[str, Any]:
        """Record that someone enrolled completed the cohort (running or completed cohorts)."""
        cohort = app_().complete_participation(
            cohort_id, person_id, event_meta(), body.get("on"), expected_version()
        )
        return enrolment_view(cohort, person_id)


@blp.route("/cohorts/<uuid:cohort_id>/waitlist")
class Waitlist(MethodView):
    @requires(*READERS)
    @blp.arguments(s.VersionedPageArgs(), location="query")
    @blp.response(200, s.EnrolmentList())
    @blp.alt_response(404, **problem_doc("The cohort does not exist, or no such version."))
    def get(self, args: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """The waitlist, first in first: the head is promoted when someone withdraws."""
        cohort = readable_cohort(cohort_id, args.get("version"))
        items, next_after = offset_page(list(cohort.waitlist), args)
        return {
            "cohort_id": cohort_id,
            "capacity": cohort.capacity,
            "count": len(cohort.waitlist),
            "items": [enrolment_view(cohort, person_id) for person_id in items],
            "next_after": next_after,
        }


@blp.route("/people/<uuid:person_id>/enrolments")
class PersonEnrolments(MethodView):
    @requires(*PERSONAL_READERS, "participant")
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, s.PersonEnrolmentPage())
    @blp.alt_response(404, **problem_doc("No such person, or (to a participant) not you."))
    def get(self, args: dict[str, Any], person_id: UUID) -> dict[str, Any]:
        """A person's invitations and enrolments in every cohort, oldest first. A participant
        may read only their own."""
        check_own(person_id)
        found, next_after = app_().participations_of(person_id, args["after"], args["limit"])
        return {
            "person_id": person_id,
            "items": [enrolment_view(cohort, person_id) for cohort, _ in found],
            "next_after": next_after,
        }
