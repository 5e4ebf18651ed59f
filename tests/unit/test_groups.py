"""Peer groups: members enrolled in the cohort, each in at most one group of it; membership
changes are events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

import pytest

from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.cohorts import CohortStatusForbids
from services.enrolment.domain.groups import (
    AlreadyGrouped,
    DuplicateMember,
    GroupNameTaken,
    MemberNotEnrolled,
    NotAMember,
)
from shared.errors import ConflictError, NotFoundError, RuleViolation
from tests.unit.factories import meta, person_fields

WINDOW = (dt.date(2020, 2, 1), dt.date(2020, 6, 30))


@dataclass
class Scene:
    app: EnrolmentApplication
    cohort_id: UUID
    enrolled: list[UUID]
    outsider: UUID


@pytest.fixture
def scene(enrolment: EnrolmentApplication) -> Scene:
    app = enrolment
    programme_id = app.define_programme("P", "TEM", meta()).id
    cohort_id = app.plan_cohort(programme_id, "C", 10, *WINDOW, meta()).id
    people = [
        app.register_person(person_fields(employee_number=f"E{n}"), meta()).id for n in range(5)
    ]
    for person in people[:4]:
        app.admit(cohort_id, person, meta())
    return Scene(app, cohort_id, people[:4], people[4])


def test_a_group_is_formed_and_listed(scene: Scene) -> None:
    a, b, c, _ = scene.enrolled
    first = scene.app.form_peer_group(scene.cohort_id, "Pienryhmä 1", [a, b], meta())
    second = scene.app.form_peer_group(scene.cohort_id, "Pienryhmä 2", [c], meta())
    assert first.members == [a, b]
    assert [g.id for g in scene.app.peer_groups_of(scene.cohort_id)] == [first.id, second.id]


def test_members_must_be_enrolled(scene: Scene) -> None:
    a = scene.enrolled[0]
    head = scene.app.head()
    with pytest.raises(MemberNotEnrolled) as caught:
        scene.app.form_peer_group(scene.cohort_id, "G", [a, scene.outsider], meta())
    assert caught.value.field == "members.1"
    assert isinstance(caught.value, RuleViolation)
    with pytest.raises(DuplicateMember) as twice:
        scene.app.form_peer_group(scene.cohort_id, "G", [a, a], meta())
    assert twice.value.field == "members.1"
    assert scene.app.head() == head


def test_a_person_is_in_at_most_one_group_of_a_cohort(scene: Scene) -> None:
    a, b, c, _ = scene.enrolled
    first = scene.app.form_peer_group(scene.cohort_id, "G1", [a], meta())
    second = scene.app.form_peer_group(scene.cohort_id, "G2", [b], meta())
    with pytest.raises(AlreadyGrouped) as caught:
        scene.app.form_peer_group(scene.cohort_id, "G3", [c, a], meta())
    assert caught.value.field == "members.1"
    assert isinstance(caught.value, ConflictError)
    with pytest.raises(AlreadyGrouped):
        scene.app.add_peer_group_member(second.id, a, meta())
    with pytest.raises(AlreadyGrouped):
        scene.app.add_peer_group_member(first.id, a, meta())  # already in this one
    # Once removed from one group, the person may join another.
    scene.app.remove_peer_group_member(first.id, a, meta())
    assert scene.app.add_peer_group_member(second.id, a, meta()).members == [b, a]


def test_membership_changes_are_events(scene: Scene) -> None:
    a, b, _, _ = scene.enrolled
    group = scene.app.form_peer_group(scene.cohort_id, "G", [a], meta())
    scene.app.add_peer_group_member(group.id, b, meta())
    scene.app.remove_peer_group_member(group.id, a, meta())
    assert scene.app.peer_group(group.id).members == [b]
    assert scene.app.peer_group(group.id, version=2).members == [a, b]
    topics = [n.topic for n in scene.app.notifications_after(0, 1000)]
    assert "polku.enrolment:PeerGroup.MemberAdded" in topics
    assert "polku.enrolment:PeerGroup.MemberRemoved" in topics


def test_removing_a_non_member_is_not_found(scene: Scene) -> None:
    group = scene.app.form_peer_group(scene.cohort_id, "G", [scene.enrolled[0]], meta())
    with pytest.raises(NotAMember) as caught:
        scene.app.remove_peer_group_member(group.id, scene.enrolled[1], meta())
    assert isinstance(caught.value, NotFoundError)
    assert caught.value.field == "person_id"


def test_group_names_are_unique_within_a_cohort(scene: Scene) -> None:
    scene.app.form_peer_group(scene.cohort_id, "G", [], meta())
    with pytest.raises(GroupNameTaken) as caught:
        scene.app.form_peer_group(scene.cohort_id, "G", [], meta())
    assert caught.value.field == "name"


def test_no_group_changes_after_the_cohort_ends(scene: Scene) -> None:
    group = scene.app.form_peer_group(scene.cohort_id, "G", [scene.enrolled[0]], meta())
    scene.app.change_cohort_status(scene.cohort_id, "cancel", meta(), reason="no funding")
    with pytest.raises(CohortStatusForbids):
        scene.app.form_peer_group(scene.cohort_id, "G2", [], meta())
    with pytest.raises(CohortStatusForbids):
        scene.app.add_peer_group_member(group.id, scene.enrolled[1], meta())
