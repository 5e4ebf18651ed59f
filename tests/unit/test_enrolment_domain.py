"""The enrolment domain's rules, the metadata its events carry, and their stored topics."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.cohorts import CapacityInvalid, Cohort, CohortWindowInvalid
from services.enrolment.domain.enrolments import AlreadyEnrolled, AlreadyWaitlisted
from services.enrolment.domain.programmes import Programme
from shared.errors import ConflictError, NotFoundError, RuleViolation
from shared.settings import Settings
from tests.unit.factories import meta, person_fields

JAN_1 = dt.date(2020, 1, 1)
JUN_30 = dt.date(2020, 6, 30)


def plan(capacity: int = 2, start: dt.date = JAN_1, end: dt.date = JUN_30) -> Cohort:
    return Cohort.plan(uuid.uuid4(), "Spring 2020", capacity, start, end, meta())


# Cohort.plan --------------------------------------------------------------------------------


@pytest.mark.parametrize("end", [JAN_1, JAN_1 - dt.timedelta(days=1)], ids=["same-day", "before"])
def test_plan_rejects_a_window_that_does_not_end_after_it_starts(end: dt.date) -> None:
    with pytest.raises(CohortWindowInvalid) as caught:
        plan(start=JAN_1, end=end)
    # The web layer reports the field, so it must be the one the user can fix.
    assert caught.value.field == "end_date"
    assert isinstance(caught.value, RuleViolation)  # maps to 422


@pytest.mark.parametrize("capacity", [0, -1])
def test_plan_rejects_a_capacity_below_one(capacity: int) -> None:
    with pytest.raises(CapacityInvalid) as caught:
        plan(capacity=capacity)
    assert caught.value.field == "capacity"
    assert isinstance(caught.value, RuleViolation)


def test_plan_accepts_a_one_day_window_and_capacity_one() -> None:
    cohort = plan(capacity=1, start=JAN_1, end=JAN_1 + dt.timedelta(days=1))
    assert (cohort.capacity, cohort.enrolled) == (1, {})


# Cohort.enrol -------------------------------------------------------------------------------


def test_enrol_fills_the_cohort_up_to_capacity_then_waitlists() -> None:
    cohort = plan(capacity=2)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cohort.enrol(first, meta())
    cohort.enrol(second, meta())
    record = cohort.enrol(third, meta())
    assert record.status == "waitlisted"
    assert set(cohort.enrolled) == {first, second}
    assert cohort.waitlist == [third]


def test_enrol_refuses_the_same_person_twice() -> None:
    cohort = plan(capacity=5)
    someone = uuid.uuid4()
    cohort.enrol(someone, meta())
    with pytest.raises(AlreadyEnrolled) as caught:
        cohort.enrol(someone, meta())
    assert caught.value.field == "person_id"
    assert isinstance(caught.value, ConflictError)


def test_double_enrolment_in_a_full_cohort_is_reported_as_already_enrolled() -> None:
    # The more specific reason wins: "waitlisted" would tell the user something false.
    cohort = plan(capacity=1)
    someone = uuid.uuid4()
    cohort.enrol(someone, meta())
    with pytest.raises(AlreadyEnrolled):
        cohort.enrol(someone, meta())


def test_a_waitlisted_person_cannot_be_waitlisted_again() -> None:
    cohort = plan(capacity=1)
    cohort.enrol(uuid.uuid4(), meta())
    waiting = uuid.uuid4()
    cohort.enrol(waiting, meta())
    with pytest.raises(AlreadyWaitlisted) as caught:
        cohort.enrol(waiting, meta())
    assert isinstance(caught.value, ConflictError)
    assert cohort.waitlist == [waiting]


def test_a_refused_enrolment_records_no_event() -> None:
    cohort = plan(capacity=1)
    someone = uuid.uuid4()
    cohort.enrol(someone, meta())
    pending_before = len(cohort.collect_events())
    with pytest.raises(AlreadyEnrolled):
        cohort.enrol(someone, meta())
    assert cohort.collect_events() == []
    assert pending_before == 2  # Planned + ParticipantEnrolled
    assert cohort.version == 2


def test_enrolment_time_is_timezone_aware() -> None:
    cohort = plan()
    someone = uuid.uuid4()
    cohort.enrol(someone, meta())
    assert cohort.enrolled[someone].tzinfo is not None


# Event metadata -------------------------------------------------------------------------------


def test_every_event_carries_actor_and_correlation_metadata() -> None:
    programme = Programme("Leadership", "TEM", "", [], meta("p-sub", "hr_admin", "c-prog"))
    cohort = Cohort.plan(programme.id, "C", 2, JAN_1, JUN_30, meta("c-sub", "coordinator", "c-co"))
    cohort.enrol(uuid.uuid4(), meta("e-sub", "coordinator", "c-enrol"))
    cohort.open(meta("o-sub", "hr_admin", "c-open"))

    recorded = [
        (type(e).__name__, getattr(e, "meta", None))
        for aggregate in (programme, cohort)
        for e in aggregate.collect_events()
    ]
    assert recorded == [
        ("Defined", meta("p-sub", "hr_admin", "c-prog")),
        ("Planned", meta("c-sub", "coordinator", "c-co")),
        ("ParticipantEnrolled", meta("e-sub", "coordinator", "c-enrol")),
        ("Opened", meta("o-sub", "hr_admin", "c-open")),
    ]


# Stored topics ---------------------------------------------------------------------------------

PINNED = {
    "polku.enrolment:Programme.Defined",
    "polku.enrolment:Cohort.Planned",
    "polku.enrolment:Cohort.ParticipantEnrolled",
    "polku.enrolment:Person.Registered",
}


def test_stored_notifications_use_the_pinned_topics(enrolment: EnrolmentApplication) -> None:
    programme_id = enrolment.define_programme("Leadership", "TEM", meta()).id
    cohort_id = enrolment.plan_cohort(programme_id, "C", 2, JAN_1, JUN_30, meta()).id
    person_id = enrolment.register_person(person_fields(), meta()).id
    enrolment.enrol(cohort_id, person_id, meta())

    topics = {n.topic for n in enrolment.notifications_after(0, 100)}
    # Pinned, not derived from module paths: moving a class must not orphan stored events.
    assert topics == PINNED


def test_stored_events_reload_in_a_fresh_application(
    enrolment: EnrolmentApplication, settings: Settings
) -> None:
    programme_id = enrolment.define_programme("Leadership", "TEM", meta()).id
    cohort_id = enrolment.plan_cohort(programme_id, "C", 2, JAN_1, JUN_30, meta()).id
    enrolled = uuid.uuid4()
    cohort = enrolment.cohort(cohort_id)
    cohort.enrol(enrolled, meta())
    enrolment.save_all(cohort)

    reopened = EnrolmentApplication(settings.eventstore_env("enrolment"))
    try:
        again = reopened.cohort(cohort_id)
    finally:
        reopened.close()
    # Dates and aware datetimes survive the transcoder unchanged.
    assert (again.start_date, again.end_date) == (JAN_1, JUN_30)
    assert again.enrolled == cohort.enrolled


# The application around the domain --------------------------------------------------------------


def test_application_enrols_only_people_who_exist(enrolment: EnrolmentApplication) -> None:
    programme_id = enrolment.define_programme("Leadership", "TEM", meta()).id
    cohort_id = enrolment.plan_cohort(programme_id, "C", 2, JAN_1, JUN_30, meta()).id
    head = enrolment.head()
    with pytest.raises(NotFoundError) as caught:
        enrolment.enrol(cohort_id, uuid.uuid4(), meta())
    assert caught.value.field == "person_id"
    assert enrolment.head() == head  # nothing written


def test_application_does_not_mistake_one_kind_of_aggregate_for_another(
    enrolment: EnrolmentApplication,
) -> None:
    # A programme id passed as a cohort id must be "not found", not an AttributeError (500).
    programme_id = enrolment.define_programme("Leadership", "TEM", meta()).id
    with pytest.raises(NotFoundError):
        enrolment.cohort(programme_id)


def test_application_plans_no_cohort_for_an_unknown_programme(
    enrolment: EnrolmentApplication,
) -> None:
    with pytest.raises(NotFoundError) as caught:
        enrolment.plan_cohort(uuid.uuid4(), "C", 2, JAN_1, JUN_30, meta())
    assert caught.value.field == "programme_id"
    assert enrolment.head() == 0
