"""Peer groups inside a cohort, and their members."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.enrolment.api import session_schemas as s
from services.enrolment.api.access import READERS, WRITERS, app_, check_cohort_access, offset_page
from services.enrolment.api.cohorts import readable_cohort
from services.enrolment.domain.groups import PeerGroup
from shared.web.blueprint import Blueprint
from shared.web.pagination import PageArgs
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.versions import VersionArgs, expected_version

blp = Blueprint(
    "peer_groups",
    __name__,
    url_prefix="/enrolment",
    description="Peer groups: small groups of a cohort's enrolled participants.",
)

CHANGE_CONFLICT = problem_doc(
    "In another peer group of the cohort, a finished cohort, or stale If-Match."
)


def group_view(g: PeerGroup) -> dict[str, Any]:
    return {
        "id": g.id,
        "cohort_id": g.cohort_id,
        "name": g.name,
        "members": g.members,
        "version": g.version,
        "created_on": g.created_on,
    }


@blp.route("/cohorts/<uuid:cohort_id>/peer-groups")
class CohortPeerGroups(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.PeerGroupIn())
    @blp.response(201, s.PeerGroupOut())
    @blp.alt_response(404, **problem_doc("No such cohort."))
    @blp.alt_response(409, **CHANGE_CONFLICT)
    @blp.alt_response(422, **problem_doc("A member is not enrolled or listed twice (members.N)."))
    def post(self, body: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """Form a peer group of people enrolled in the cohort and in none of its other groups."""
        group = app_().form_peer_group(cohort_id, body["name"], body["members"], event_meta())
        return group_view(group)

    @requires(*READERS)
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, s.PeerGroupPage())
    @blp.alt_response(404, **problem_doc("No such cohort."))
    def get(self, args: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """The cohort's peer groups in the order they were formed; the cursor counts groups."""
        readable_cohort(cohort_id)
        items, next_after = offset_page(app_().peer_groups_of(cohort_id), args)
        return {"items": [group_view(x) for x in items], "next_after": next_after}


def readable_group(group_id: UUID, version: int | None = None) -> PeerGroup:
    group = app_().peer_group(group_id, version=version)
    check_cohort_access(app_().cohort(group.cohort_id).coaches, "peer group")
    return group


@blp.route("/peer-groups/<uuid:group_id>")
class PeerGroupById(MethodView):
    @requires(*READERS)
    @blp.arguments(VersionArgs(), location="query")
    @blp.response(200, s.PeerGroupOut())
    @blp.alt_response(404, **problem_doc("No such peer group, or no such version of it."))
    def get(self, args: dict[str, Any], group_id: UUID) -> dict[str, Any]:
        """One peer group, as it is now or as it was at ``?version=``."""
        return group_view(readable_group(group_id, args.get("version")))


@blp.route("/peer-groups/<uuid:group_id>/members")
class PeerGroupMembers(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.MemberIn())
    @blp.response(200, s.PeerGroupOut())
    @blp.alt_response(404, **problem_doc("No such peer group."))
    @blp.alt_response(409, **CHANGE_CONFLICT)
    @blp.alt_response(422, **problem_doc("The person is not enrolled in the cohort."))
    def post(self, body: dict[str, Any], group_id: UUID) -> dict[str, Any]:
        """Add a member."""
        group = app_().add_peer_group_member(
            group_id, body["person_id"], event_meta(), expected_version()
        )
        return group_view(group)


@blp.route("/peer-groups/<uuid:group_id>/members/<uuid:person_id>")
class PeerGroupMember(MethodView):
    @requires(*WRITERS)
    @blp.response(200, s.PeerGroupOut())
    @blp.alt_response(404, **problem_doc("No such peer group, or the person is not in it."))
    @blp.alt_response(409, **CHANGE_CONFLICT)
    def delete(self, group_id: UUID, person_id: UUID) -> dict[str, Any]:
        """Remove a member."""
        group = app_().remove_peer_group_member(
            group_id, person_id, event_meta(), expected_version()
        )
        return group_view(group)
