"""Peer groups: small groups inside a cohort, whose members are enrolled in it.

A person belongs to at most one peer group of a cohort. That rule spans groups, so each
cohort has a :class:`PeerGroupsOfCohort` register, saved in the same transaction as the group
it changes; two requests placing one person in two groups cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.enrolment.domain import Meta
from services.enrolment.domain.cohorts import LIVE, Cohort
from services.enrolment.domain.enrolments import ENROLLED
from shared.errors import ConflictError, NotFoundError, PolkuError, RuleViolation

REGISTER_NAMESPACE = UUID("5d3c8f36-3a0e-4f3b-8f0e-2f7d6b1a9c42")


class MemberNotEnrolled(RuleViolation):
    pass


class DuplicateMember(RuleViolation):
    pass


class AlreadyGrouped(ConflictError):
    pass


class GroupNameTaken(ConflictError):
    pass


class NotAMember(NotFoundError):
    pass


def check_enrolled(cohort: Cohort, person_id: UUID, field: str) -> None:
    record = cohort.participations.get(person_id)
    if record is None or record.status != ENROLLED:
        raise MemberNotEnrolled(f"person {person_id} is not enrolled in this cohort", field=field)


def check_members(cohort: Cohort, register: PeerGroupsOfCohort, members: Sequence[UUID]) -> None:
    """Checks every member and names every bad one in one refusal (``members.N``), as
    attendance does, so a long list is fixed in one pass; the refusal's class (and so its
    status) is that of the first problem."""
    problems: list[tuple[type[PolkuError], str, str]] = []
    for n, person_id in enumerate(members):
        where = f"members.{n}"
        if person_id in members[:n]:
            first = members.index(person_id)
            message = f"person {person_id} is listed twice (first as members.{first})"
            problems.append((DuplicateMember, where, message))
            continue
        try:
            check_enrolled(cohort, person_id, where)
            register.check_free(person_id, where)
        except (MemberNotEnrolled, AlreadyGrouped) as refusal:
            problems.append((type(refusal), where, refusal.message))
    if problems:
        kind, field, message = problems[0]
        if len(problems) > 1:  # each is in ``errors``; the detail stays short
            message = f"{len(problems)} problems in the members, the first {field}: {message}"
        errors = [{"location": "json", "field": f, "message": m} for _, f, m in problems]
        raise kind(message, field=field, errors=errors)


class PeerGroupsOfCohort(Aggregate):
    """Which peer group each member of a cohort is in, and the groups' names."""

    TOPIC = "polku.enrolment:PeerGroupsOfCohort"

    class Event(Aggregate.Event):
        TOPIC = "polku.enrolment:PeerGroupsOfCohort.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.enrolment:PeerGroupsOfCohort.Created"

    @staticmethod
    def create_id(cohort_id: UUID) -> UUID:
        return uuid5(REGISTER_NAMESPACE, str(cohort_id))

    @event("Started", topic="polku.enrolment:PeerGroupsOfCohort.Started")
    def __init__(self, cohort_id: UUID, meta: Meta) -> None:
        self.cohort_id = cohort_id
        self.names: dict[UUID, str] = {}
        self.group_of: dict[UUID, UUID] = {}

    def check_free(self, person_id: UUID, field: str) -> None:
        group_id = self.group_of.get(person_id)
        if group_id is not None:
            raise AlreadyGrouped(
                f"person {person_id} is already in peer group {group_id} of this cohort",
                field=field,
            )

    @event("GroupAdded", topic="polku.enrolment:PeerGroupsOfCohort.GroupAdded")
    def add_group(self, group_id: UUID, name: str, members: list[UUID], meta: Meta) -> None:
        self.names[group_id] = name
        for person_id in members:
            self.group_of[person_id] = group_id

    @event("MemberPlaced", topic="polku.enrolment:PeerGroupsOfCohort.MemberPlaced")
    def place(self, group_id: UUID, person_id: UUID, meta: Meta) -> None:
        self.group_of[person_id] = group_id

    @event("MemberFreed", topic="polku.enrolment:PeerGroupsOfCohort.MemberFreed")
    def free(self, person_id: UUID, meta: Meta) -> None:
        del self.group_of[person_id]


class PeerGroup(Aggregate):
    TOPIC = "polku.enrolment:PeerGroup"

    class Event(Aggregate.Event):
        TOPIC = "polku.enrolment:PeerGroup.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.enrolment:PeerGroup.Created"

    @classmethod
    def form(
        cls,
        cohort: Cohort,
        register: PeerGroupsOfCohort,
        name: str,
        members: Sequence[UUID],
        meta: Meta,
    ) -> PeerGroup:
        """Forms a group of people enrolled in ``cohort`` and in no other of its groups."""
        cohort.check_status(LIVE, "form peer groups")
        if name in register.names.values():
            raise GroupNameTaken(
                f"the cohort already has a peer group named {name!r}", field="name"
            )
        check_members(cohort, register, members)
        group = cls(cohort.id, name, list(members), meta)
        register.add_group(group.id, name, list(members), meta)
        return group

    @event("Formed", topic="polku.enrolment:PeerGroup.Formed")
    def __init__(self, cohort_id: UUID, name: str, members: list[UUID], meta: Meta) -> None:
        self.cohort_id = cohort_id
        self.name = name
        self.members = list(members)

    def add_member(
        self, cohort: Cohort, register: PeerGroupsOfCohort, person_id: UUID, meta: Meta
    ) -> None:
        cohort.check_status(LIVE, "change peer groups")
        check_enrolled(cohort, person_id, "person_id")
        register.check_free(person_id, "person_id")
        self._member_added(self.cohort_id, person_id, meta)
        register.place(self.id, person_id, meta)

    @event("MemberAdded", topic="polku.enrolment:PeerGroup.MemberAdded")
    def _member_added(self, cohort_id: UUID, person_id: UUID, meta: Meta) -> None:
        self.members.append(person_id)

    def remove_member(
        self, cohort: Cohort, register: PeerGroupsOfCohort, person_id: UUID, meta: Meta
    ) -> None:
        """Removes a member; allowed while the cohort is live (a withdrawn member too)."""
        cohort.check_status(LIVE, "change peer groups")
        if person_id not in self.members:
            raise NotAMember(
                f"person {person_id} is not a member of peer group {self.id}", field="person_id"
            )
        self._member_removed(self.cohort_id, person_id, meta)
        register.free(person_id, meta)

    @event("MemberRemoved", topic="polku.enrolment:PeerGroup.MemberRemoved")
    def _member_removed(self, cohort_id: UUID, person_id: UUID, meta: Meta) -> None:
        self.members.remove(person_id)
