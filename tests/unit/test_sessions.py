"""Sessions: inside the cohort's window, half a day by default, rescheduled or moved to another
delivery only with a reason (every change kept), then held or cancelled."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.cohorts import CohortStatusForbids
from services.enrolment.domain.sessions import (
    DeliveryInvalid,
    FacilitatorInvalid,
    NothingChanges,
    Session,
    SessionNotYetHeld,
    SessionOutsideCohort,
    SessionStatusForbids,
    SessionTimesInvalid,
)
from shared.errors import ConflictError, RuleViolation
from tests.unit.factories import meta

WINDOW = (dt.date(2020, 2, 1), dt.date(2020, 6, 30))
HKI = dt.timezone(dt.timedelta(hours=2))
FEB_5 = dt.datetime(2020, 2, 5, 9, 0, tzinfo=HKI)


def schedule(starts_at: dt.datetime = FEB_5, **kw: object) -> Session:
    return Session.schedule(uuid.uuid4(), WINDOW, "Kick-off", starts_at, meta(), **kw)  # type: ignore[arg-type]


def test_a_session_lasts_half_a_day_unless_told_otherwise() -> None:
    session = schedule()
    assert session.ends_at - session.starts_at == dt.timedelta(hours=4)
    assert session.minutes == 240
    assert (session.status, session.delivery, session.day) == (
        "scheduled",
        "in_person",
        dt.date(2020, 2, 5),
    )


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field"),
    [
        (dt.datetime(2020, 1, 31, 9, tzinfo=HKI), None, "starts_at"),
        (dt.datetime(2020, 7, 1, 9, tzinfo=HKI), None, "starts_at"),
        (dt.datetime(2020, 6, 30, 22, tzinfo=HKI), None, "ends_at"),  # runs past the end
        (FEB_5, FEB_5, "ends_at"),
        (FEB_5, FEB_5 - dt.timedelta(hours=1), "ends_at"),
        (FEB_5, FEB_5 + dt.timedelta(hours=25), "ends_at"),
        (FEB_5.replace(tzinfo=None), None, "starts_at"),
    ],
    ids=["before", "after", "overruns", "empty", "backwards", "too-long", "naive"],
)
def test_a_session_falls_inside_the_cohort_window(
    starts_at: dt.datetime, ends_at: dt.datetime | None, field: str
) -> None:
    with pytest.raises((SessionOutsideCohort, SessionTimesInvalid)) as caught:
        schedule(starts_at, ends_at=ends_at)
    assert caught.value.field == field
    assert isinstance(caught.value, RuleViolation)


def test_delivery_and_facilitator_kinds_are_checked() -> None:
    with pytest.raises(DeliveryInvalid):
        schedule(delivery="carrier pigeon")
    with pytest.raises(FacilitatorInvalid) as caught:
        schedule(facilitators=[{"kind": "coach"}, {"kind": "juggler"}])
    assert caught.value.field == "facilitators.1.kind"


def test_rescheduling_keeps_the_length_and_the_history_with_its_reason() -> None:
    session = schedule(ends_at=FEB_5 + dt.timedelta(hours=3))
    later = FEB_5 + dt.timedelta(days=7)
    session.reschedule(later, "minister's visit", meta())
    assert (session.starts_at, session.ends_at) == (later, later + dt.timedelta(hours=3))
    change = session.history[-1]
    assert change["change"] == "rescheduled"
    assert change["reason"] == "minister's visit"
    assert change["from"]["starts_at"] == FEB_5
    assert change["to"]["starts_at"] == later
    assert change["version"] == session.version == 2
    with pytest.raises(NothingChanges):
        session.reschedule(later, "again", meta())
    with pytest.raises(SessionOutsideCohort):
        session.reschedule(dt.datetime(2020, 8, 1, 9, tzinfo=HKI), "summer", meta())


def test_a_delivery_change_is_kept_with_its_reason() -> None:
    session = schedule(location="Aleksanterinkatu 4")
    session.change_delivery("virtual", "COVID-19 restrictions", meta(), platform="Skype")
    assert (session.delivery, session.platform, session.location) == ("virtual", "Skype", None)
    assert [h["change"] for h in session.history] == ["scheduled", "delivery_changed"]
    assert session.history[-1]["from"]["delivery"] == "in_person"
    assert session.history[-1]["reason"] == "COVID-19 restrictions"
    with pytest.raises(NothingChanges):
        session.change_delivery("virtual", "again", meta(), platform="Skype")


def test_held_or_cancelled_sessions_change_no_more() -> None:
    held = schedule()
    held.hold(meta())
    cancelled = schedule()
    cancelled.cancel("trainer ill", meta())
    assert cancelled.cancellation_reason == "trainer ill"
    for session in (held, cancelled):
        with pytest.raises(SessionStatusForbids) as caught:
            session.reschedule(FEB_5 + dt.timedelta(days=1), "r", meta())
        assert isinstance(caught.value, ConflictError)
        with pytest.raises(SessionStatusForbids):
            session.change_delivery("virtual", "r", meta())
        with pytest.raises(SessionStatusForbids):
            session.hold(meta())
        with pytest.raises(SessionStatusForbids):
            session.cancel("r", meta())


def test_a_session_that_has_not_started_cannot_have_been_held() -> None:
    session = schedule()
    with pytest.raises(SessionNotYetHeld):
        session.hold(meta(), now=FEB_5 - dt.timedelta(minutes=1))
    session.hold(meta(), now=FEB_5)
    assert session.status == "held"


def test_sessions_are_listed_in_time_order_and_not_scheduled_in_a_finished_cohort(
    enrolment: EnrolmentApplication,
) -> None:
    programme_id = enrolment.define_programme("P", "TEM", meta()).id
    cohort_id = enrolment.plan_cohort(programme_id, "C", 5, *WINDOW, meta()).id
    late = enrolment.schedule_session(cohort_id, "Late", FEB_5 + dt.timedelta(days=30), meta())
    early = enrolment.schedule_session(cohort_id, "Early", FEB_5, meta())
    assert [s.id for s in enrolment.sessions_of(cohort_id)] == [early.id, late.id]
    enrolment.reschedule_session(early.id, FEB_5 + dt.timedelta(days=60), "moved", meta())
    assert [s.id for s in enrolment.sessions_of(cohort_id)] == [late.id, early.id]

    enrolment.change_cohort_status(cohort_id, "cancel", meta(), reason="no funding")
    head = enrolment.head()
    with pytest.raises(CohortStatusForbids):
        enrolment.schedule_session(cohort_id, "Too late", FEB_5, meta())
    with pytest.raises(CohortStatusForbids):
        enrolment.reschedule_session(late.id, FEB_5, "after all", meta())
    with pytest.raises(CohortStatusForbids):
        enrolment.change_session_delivery(late.id, "virtual", "pandemic", meta())
    assert enrolment.head() == head
    enrolment.cancel_session(late.id, "the cohort was cancelled", meta())  # tidying up is fine


def test_a_session_outside_the_window_writes_nothing(enrolment: EnrolmentApplication) -> None:
    programme_id = enrolment.define_programme("P", "TEM", meta()).id
    cohort_id = enrolment.plan_cohort(programme_id, "C", 5, *WINDOW, meta()).id
    head = enrolment.head()
    with pytest.raises(SessionOutsideCohort):
        enrolment.schedule_session(cohort_id, "x", dt.datetime(2021, 1, 1, tzinfo=HKI), meta())
    assert enrolment.head() == head
    assert enrolment.sessions_of(cohort_id) == []
