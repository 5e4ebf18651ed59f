"""Invitations, enrolment, capacity and the first-in, first-out waitlist of a cohort."""

from __future__ import annotations

import datetime as dt
import uuid
from uuid import UUID

import pytest

from services.enrolment.domain.cohorts import Cohort, CohortStatusForbids
from services.enrolment.domain.dates import EffectiveDateInFuture
from services.enrolment.domain.enrolments import (
    AlreadyCompleted,
    AlreadyEnrolled,
    AlreadyInvited,
    DateBeforeEarlierStep,
    NoInvitation,
    NotAParticipant,
    NotEnrolled,
)
from shared.errors import ConflictError, NotFoundError, RuleViolation
from tests.unit.factories import meta

FEB_1, JUN_30 = dt.date(2020, 2, 1), dt.date(2020, 6, 30)
JAN_10, JAN_20, MAR_1 = dt.date(2020, 1, 10), dt.date(2020, 1, 20), dt.date(2020, 3, 1)


def plan(capacity: int = 2, status: str = "planned") -> Cohort:
    cohort = Cohort.plan(uuid.uuid4(), "Spring 2020", capacity, FEB_1, JUN_30, meta())
    if status in ("open", "running", "completed"):
        cohort.open(meta(), on=JAN_10)
    if status in ("running", "completed"):
        cohort.start(meta(), on=FEB_1)
    if status == "completed":
        cohort.complete(meta(), on=JUN_30)
    if status == "cancelled":
        cohort.cancel("no funding", meta())
    return cohort


def people(n: int) -> list[UUID]:
    return [uuid.uuid4() for _ in range(n)]


def event_names(cohort: Cohort) -> list[str]:
    return [type(e).__name__ for e in cohort.collect_events()]


# Capacity and the waitlist --------------------------------------------------------------------


def test_beyond_capacity_people_wait_in_arrival_order() -> None:
    cohort = plan(capacity=2, status="open")
    a, b, c, d = people(4)
    for person in (a, b, c, d):
        cohort.enrol(person, meta(), on=JAN_20)
    assert list(cohort.enrolled) == [a, b]
    assert cohort.waitlist == [c, d]
    assert (cohort.waitlist_position(c), cohort.waitlist_position(d)) == (1, 2)
    assert cohort.participation(d).status == "waitlisted"


def test_a_withdrawal_promotes_the_head_of_the_waitlist_the_same_day() -> None:
    cohort = plan(capacity=1, status="running")
    a, b, c = people(3)
    for person in (a, b, c):
        cohort.enrol(person, meta(), on=JAN_20)
    cohort.collect_events()

    promoted = cohort.withdraw(a, "moved to another ministry", meta(), on=MAR_1)

    assert promoted == b
    assert event_names(cohort) == ["ParticipantWithdrawn", "ParticipantEnrolled"]
    record = cohort.participation(b)
    assert (record.status, record.enrolled_on) == ("enrolled", MAR_1)
    assert cohort.waitlist == [c]  # first in, first out: c is next
    assert cohort.participation(a).withdrawn_on == MAR_1
    assert cohort.participation(a).withdrawal_reason == "moved to another ministry"


def test_a_withdrawal_with_nobody_waiting_promotes_nobody() -> None:
    cohort = plan(capacity=2, status="open")
    (a,) = people(1)
    cohort.enrol(a, meta())
    assert cohort.withdraw(a, "ill", meta()) is None
    assert cohort.places_taken == 0


def test_a_back_dated_withdrawal_seats_the_promoted_person_no_earlier_than_they_waited() -> None:
    cohort = plan(capacity=1, status="open")
    a, b = people(2)
    cohort.enrol(a, meta(), on=JAN_10)
    cohort.enrol(b, meta(), on=JAN_20)
    cohort.withdraw(a, "ill", meta(), on=dt.date(2020, 1, 12))
    assert cohort.participation(b).enrolled_on == JAN_20


def test_completed_participants_keep_their_place() -> None:
    cohort = plan(capacity=1, status="running")
    a, b = people(2)
    cohort.enrol(a, meta(), on=JAN_20)
    cohort.complete_participation(a, meta(), on=JUN_30)
    assert cohort.enrol(b, meta()).status == "waitlisted"
    assert cohort.places_taken == 1


def test_after_completion_a_withdrawal_promotes_nobody() -> None:
    cohort = plan(capacity=1, status="running")
    a, b = people(2)
    cohort.enrol(a, meta(), on=JAN_20)
    cohort.enrol(b, meta(), on=JAN_20)
    cohort.complete(meta(), on=JUN_30)
    assert cohort.withdraw(a, "left the state", meta(), on=JUN_30) is None
    assert cohort.participation(b).status == "waitlisted"


# No double enrolment ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "error"),
    [("enrol", AlreadyEnrolled), ("invite", AlreadyInvited), ("complete", AlreadyCompleted)],
)
def test_nobody_is_admitted_twice(first: str, error: type[ConflictError]) -> None:
    cohort = plan(capacity=5, status="running")
    (a,) = people(1)
    if first == "invite":
        cohort = plan(capacity=5, status="open")
        cohort.invite(a, meta())
    else:
        cohort.enrol(a, meta(), on=JAN_20)
    if first == "complete":
        cohort.complete_participation(a, meta())
    version = cohort.version
    with pytest.raises(error) as caught:
        cohort.enrol(a, meta())
    assert caught.value.field == "person_id"
    with pytest.raises(ConflictError):
        cohort.invite(a, meta())
    assert cohort.version == version


# Invitations -----------------------------------------------------------------------------------


def test_an_accepted_invitation_enrols_or_waitlists() -> None:
    cohort = plan(capacity=1, status="open")
    a, b = people(2)
    cohort.invite(a, meta(), on=JAN_10)
    cohort.invite(b, meta(), on=JAN_10)
    cohort.collect_events()
    assert cohort.accept(a, meta(), on=JAN_20).status == "enrolled"
    assert cohort.accept(b, meta(), on=JAN_20).status == "waitlisted"
    assert event_names(cohort) == [
        "InvitationAccepted",
        "ParticipantEnrolled",
        "InvitationAccepted",
        "ParticipantWaitlisted",
    ]
    assert cohort.participation(a).enrolled_on == JAN_20


def test_invitations_go_out_while_planned_but_are_accepted_only_while_open() -> None:
    cohort = plan(status="planned")
    (a,) = people(1)
    cohort.invite(a, meta())
    with pytest.raises(CohortStatusForbids):
        cohort.accept(a, meta())
    cohort.open(meta())
    assert cohort.accept(a, meta()).status == "enrolled"


@pytest.mark.parametrize("status", ["running", "completed", "cancelled"])
def test_no_invitations_once_the_cohort_is_under_way_or_over(status: str) -> None:
    cohort = plan(status=status)
    with pytest.raises(CohortStatusForbids):
        cohort.invite(uuid.uuid4(), meta())


def test_a_declined_invitation_is_kept_with_its_reason() -> None:
    cohort = plan(status="open")
    (a,) = people(1)
    cohort.invite(a, meta(), on=JAN_10)
    cohort.decline(a, meta(), reason="workload", on=JAN_20)
    record = cohort.participation(a)
    assert (record.status, record.declined_on, record.decline_reason) == (
        "declined",
        JAN_20,
        "workload",
    )
    with pytest.raises(NoInvitation):
        cohort.accept(a, meta())


@pytest.mark.parametrize("left", ["declined", "withdrawn"])
def test_people_who_left_are_invited_again_only_while_open(left: str) -> None:
    cohort = plan(status="open")
    (a,) = people(1)
    if left == "declined":
        cohort.invite(a, meta())
        cohort.decline(a, meta())
    else:
        cohort.enrol(a, meta())
        cohort.withdraw(a, "ill", meta())
    cohort.start(meta())
    with pytest.raises(CohortStatusForbids) as caught:
        cohort.invite(a, meta())
    assert "only an open cohort" in caught.value.message
    with pytest.raises(CohortStatusForbids):
        cohort.enrol(a, meta())

    again = plan(status="open")
    again.invite(a, meta())
    again.decline(a, meta())
    again.invite(a, meta())
    assert again.participation(a).status == "invited"


def test_an_invited_person_is_not_enrolled_directly() -> None:
    cohort = plan(status="open")
    (a,) = people(1)
    cohort.invite(a, meta())
    with pytest.raises(AlreadyInvited):
        cohort.enrol(a, meta())


def test_accepting_or_declining_without_an_invitation_is_refused() -> None:
    cohort = plan(status="open")
    with pytest.raises(NotAParticipant) as caught:
        cohort.accept(uuid.uuid4(), meta())
    assert isinstance(caught.value, NotFoundError)
    (a,) = people(1)
    cohort.enrol(a, meta())
    with pytest.raises(NoInvitation):
        cohort.decline(a, meta())


# Withdrawal and completion --------------------------------------------------------------------


def test_only_someone_enrolled_withdraws_or_completes() -> None:
    cohort = plan(capacity=1, status="open")
    a, b, c = people(3)
    cohort.enrol(a, meta(), on=JAN_20)
    cohort.enrol(b, meta(), on=JAN_20)  # waitlisted
    cohort.invite(c, meta(), on=JAN_10)
    cohort.start(meta(), on=FEB_1)
    with pytest.raises(NotEnrolled):
        cohort.withdraw(c, "why", meta())  # invited: they decline instead
    with pytest.raises(NotEnrolled):
        cohort.complete_participation(b, meta())
    cohort.complete_participation(a, meta())
    with pytest.raises(AlreadyCompleted):
        cohort.withdraw(a, "late", meta())


def test_completion_is_recorded_only_once_the_cohort_runs() -> None:
    cohort = plan(status="open")
    (a,) = people(1)
    cohort.enrol(a, meta())
    with pytest.raises(CohortStatusForbids):
        cohort.complete_participation(a, meta())


def test_after_completion_only_completions_and_withdrawals_of_people_still_enrolled() -> None:
    cohort = plan(capacity=3, status="running")
    a, b, c = people(3)
    cohort.enrol(a, meta(), on=JAN_20)
    cohort.enrol(b, meta(), on=JAN_20)
    cohort.complete(meta(), on=JUN_30)

    cohort.complete_participation(a, meta(), on=JUN_30)
    cohort.withdraw(b, "left the programme", meta(), on=JUN_30)
    version = cohort.version
    with pytest.raises(CohortStatusForbids):
        cohort.enrol(c, meta())
    with pytest.raises(CohortStatusForbids):
        cohort.invite(c, meta())
    assert cohort.version == version


def test_nothing_changes_in_a_cancelled_cohort() -> None:
    cohort = plan(status="open")
    (a,) = people(1)
    cohort.enrol(a, meta())
    cohort.cancel("no funding", meta())
    with pytest.raises(CohortStatusForbids):
        cohort.withdraw(a, "why", meta())
    with pytest.raises(CohortStatusForbids):
        cohort.enrol(uuid.uuid4(), meta())


def test_steps_cannot_be_dated_before_the_step_they_follow() -> None:
    cohort = plan(status="running")
    (a,) = people(1)
    cohort.enrol(a, meta(), on=MAR_1)
    with pytest.raises(DateBeforeEarlierStep) as caught:
        cohort.withdraw(a, "ill", meta(), on=FEB_1)
    assert caught.value.field == "on"
    assert isinstance(caught.value, RuleViolation)
    with pytest.raises(DateBeforeEarlierStep):
        cohort.complete_participation(a, meta(), on=FEB_1)

    invited = plan(status="open")
    invited.invite(a, meta(), on=JAN_20)
    with pytest.raises(DateBeforeEarlierStep):
        invited.accept(a, meta(), on=JAN_10)


def test_an_enrolment_cannot_be_dated_in_the_future() -> None:
    cohort = plan(status="open")
    with pytest.raises(EffectiveDateInFuture):
        cohort.enrol(uuid.uuid4(), meta(), on=dt.date.today() + dt.timedelta(days=3))
    assert cohort.participations == {}


def test_enrolment_spans_follow_withdrawal_and_re_enrolment() -> None:
    cohort = plan(status="open")
    (a,) = people(1)
    cohort.enrol(a, meta(), on=JAN_10)
    cohort.withdraw(a, "ill", meta(), on=JAN_20)
    cohort.enrol(a, meta(), on=MAR_1)
    record = cohort.participation(a)
    assert record.periods == [[JAN_10, JAN_20], [MAR_1, None]]
    assert record.enrolled_during(JAN_20)
    assert not record.enrolled_during(FEB_1)
    assert record.enrolled_during(JUN_30)


# Leaving the waitlist ------------------------------------------------------------------------


def test_someone_waiting_leaves_the_waitlist_and_the_rest_keep_their_order() -> None:
    cohort = plan(capacity=1, status="open")
    a, b, c, d = people(4)
    for person in (a, b, c, d):
        cohort.enrol(person, meta(), on=JAN_20)
    cohort.collect_events()

    assert cohort.withdraw(c, "took another post", meta(), on=MAR_1) is None  # promotes nobody
    assert event_names(cohort) == ["ParticipantLeftWaitlist"]
    record = cohort.participation(c)
    assert (record.status, record.withdrawn_on, record.withdrawal_reason) == (
        "withdrawn",
        MAR_1,
        "took another post",
    )
    assert record.periods == []  # never enrolled, so never expected at a session
    assert cohort.waitlist == [b, d]
    assert (cohort.waitlist_position(b), cohort.waitlist_position(d)) == (1, 2)
    assert list(cohort.enrolled) == [a]

    assert cohort.withdraw(a, "ill", meta(), on=MAR_1) == b  # the head still comes first
    assert cohort.waitlist == [d]


def test_leaving_the_waitlist_follows_the_rules_of_a_withdrawal() -> None:
    cohort = plan(capacity=1, status="open")
    a, b = people(2)
    cohort.enrol(a, meta(), on=JAN_20)
    cohort.enrol(b, meta(), on=MAR_1)
    with pytest.raises(DateBeforeEarlierStep):
        cohort.withdraw(b, "why", meta(), on=JAN_20)  # before they joined the waitlist
    cohort.withdraw(b, "why", meta(), on=MAR_1)
    cohort.enrol(b, meta(), on=MAR_1)  # back while open: at the end of the waitlist again
    record = cohort.participation(b)
    assert (record.status, record.withdrawn_on, record.withdrawal_reason) == (
        "waitlisted",
        None,
        None,
    )


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_nobody_leaves_the_waitlist_of_a_finished_cohort(status: str) -> None:
    cohort = plan(capacity=1, status="running")
    a, b = people(2)
    cohort.enrol(a, meta(), on=JAN_20)
    cohort.enrol(b, meta(), on=JAN_20)
    if status == "completed":
        cohort.complete(meta(), on=JUN_30)
    else:
        cohort.cancel("no funding", meta())
    version = cohort.version
    with pytest.raises(CohortStatusForbids):
        cohort.withdraw(b, "why", meta())
    assert cohort.version == version
