"""Attendance: only for people enrolled on the session's day; corrections keep the original;
partial attendance has minutes; one bad record writes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

import pytest

from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.attendance import (
    AttendanceInvalid,
    CorrectionNeedsReason,
    Mark,
    NotEnrolledOnSessionDay,
)
from services.enrolment.domain.sessions import SessionNotYetHeld, SessionStatusForbids
from tests.unit.factories import meta, person_fields

HKI = dt.timezone(dt.timedelta(hours=2))
WINDOW = (dt.date(2020, 2, 1), dt.date(2020, 6, 30))
MAR_4 = dt.datetime(2020, 3, 4, 9, 0, tzinfo=HKI)


@dataclass
class Scene:
    app: EnrolmentApplication
    cohort_id: UUID
    session_id: UUID
    early: UUID  # enrolled before the session
    late: UUID  # enrolled after it
    gone: UUID  # withdrew before it
    same_day: UUID  # withdrew on the session's day

    def record(self, *marks: Mark, reason: str | None = None) -> object:
        return self.app.record_attendance(self.session_id, list(marks), reason, meta())


@pytest.fixture
def scene(enrolment: EnrolmentApplication) -> Scene:
    app = enrolment
    programme_id = app.define_programme("P", "TEM", meta()).id
    cohort_id = app.plan_cohort(programme_id, "C", 10, *WINDOW, meta()).id
    ids = [app.register_person(person_fields(employee_number=f"E{n}"), meta()).id for n in range(4)]
    early, late, gone, same_day = ids
    for person in (early, gone, same_day):
        app.admit(cohort_id, person, meta(), on=dt.date(2020, 2, 1))
    app.admit(cohort_id, late, meta(), on=dt.date(2020, 3, 5))
    app.withdraw(cohort_id, gone, "moved", meta(), on=dt.date(2020, 3, 3))
    app.withdraw(cohort_id, same_day, "moved", meta(), on=dt.date(2020, 3, 4))
    session_id = app.schedule_session(cohort_id, "S", MAR_4, meta()).id
    return Scene(app, cohort_id, session_id, early, late, gone, same_day)


def test_attendance_is_recorded_and_marks_a_past_session_held(scene: Scene) -> None:
    tally = scene.record(Mark(scene.early, "present"), Mark(scene.same_day, "partial", 90))
    assert (tally.recorded, tally.corrected, tally.unchanged) == (2, 0, 0)  # type: ignore[attr-defined]
    session = scene.app.session(scene.session_id)
    assert session.status == "held"
    assert session.current_attendance(scene.same_day)["minutes"] == 90  # type: ignore[index]


@pytest.mark.parametrize("who", ["late", "gone"])
def test_nobody_outside_their_enrolment_is_recorded(scene: Scene, who: str) -> None:
    # Enrolled after the session, or withdrawn before it: neither attended nor was absent.
    head = scene.app.head()
    with pytest.raises(NotEnrolledOnSessionDay) as caught:
        scene.record(Mark(scene.early, "present"), Mark(getattr(scene, who), "absent"))
    assert caught.value.field == "records.1.person_id"
    assert scene.app.head() == head  # the good first record was not written either
    assert scene.app.session(scene.session_id).status == "scheduled"


def test_someone_never_enrolled_is_refused(scene: Scene) -> None:
    stranger = scene.app.register_person(person_fields(employee_number="X"), meta()).id
    with pytest.raises(NotEnrolledOnSessionDay):
        scene.record(Mark(stranger, "present"))


def test_a_correction_is_a_new_event_that_keeps_the_original(scene: Scene) -> None:
    scene.record(Mark(scene.early, "absent"))
    with pytest.raises(CorrectionNeedsReason) as caught:
        scene.record(Mark(scene.early, "excused"))
    assert caught.value.field == "reason"
    tally = scene.record(Mark(scene.early, "excused"), reason="doctor's note arrived")
    assert (tally.recorded, tally.corrected) == (0, 1)  # type: ignore[attr-defined]
    entries = scene.app.session(scene.session_id).attendance[scene.early]
    assert [(e["status"], e["correction"], e["reason"]) for e in entries] == [
        ("absent", False, None),
        ("excused", True, "doctor's note arrived"),
    ]
    topics = [n.topic.rsplit(".", 1)[1] for n in scene.app.notifications_after(0, 100)]
    assert topics.count("AttendanceRecorded") == 1
    assert topics.count("AttendanceCorrected") == 1


def test_an_identical_record_changes_nothing(scene: Scene) -> None:
    scene.record(Mark(scene.early, "present"))
    head = scene.app.head()
    tally = scene.record(Mark(scene.early, "present"))
    assert (tally.recorded, tally.corrected, tally.unchanged) == (0, 0, 1)  # type: ignore[attr-defined]
    assert scene.app.head() == head


@pytest.mark.parametrize(
    ("mark", "field"),
    [
        (Mark(UUID(int=0), "partial"), "records.0.minutes"),
        (Mark(UUID(int=0), "partial", 0), "records.0.minutes"),
        (Mark(UUID(int=0), "partial", 241), "records.0.minutes"),  # longer than the session
        (Mark(UUID(int=0), "present", 30), "records.0.minutes"),
        (Mark(UUID(int=0), "asleep"), "records.0.status"),
    ],
)
def test_partial_attendance_has_minutes_within_the_session(
    scene: Scene, mark: Mark, field: str
) -> None:
    with pytest.raises(AttendanceInvalid) as caught:
        scene.record(Mark(scene.early, mark.status, mark.minutes))
    assert caught.value.field == field


def test_partial_minutes_may_fill_the_whole_session(scene: Scene) -> None:
    assert scene.record(Mark(scene.early, "partial", 240)).recorded == 1  # type: ignore[attr-defined]


def test_a_person_twice_in_one_request_is_refused(scene: Scene) -> None:
    with pytest.raises(AttendanceInvalid) as caught:
        scene.record(Mark(scene.early, "present"), Mark(scene.early, "absent"))
    assert caught.value.field == "records.1.person_id"


def test_no_attendance_for_a_cancelled_or_future_session(scene: Scene) -> None:
    scene.app.cancel_session(scene.session_id, "ill", meta())
    with pytest.raises(SessionStatusForbids):
        scene.record(Mark(scene.early, "present"))
    future = scene.app.session(scene.session_id)
    with pytest.raises(SessionNotYetHeld):
        # A session of the same cohort that has not happened yet (checked against "now").
        fresh = type(future).schedule(
            future.cohort_id, WINDOW, "S2", MAR_4, meta()
        )  # scheduled, starts at MAR_4
        fresh.record_attendance(
            [Mark(scene.early, "present")],
            None,
            lambda p, d: True,
            meta(),
            now=MAR_4 - dt.timedelta(hours=1),
        )


def test_an_empty_request_is_refused(scene: Scene) -> None:
    with pytest.raises(AttendanceInvalid) as caught:
        scene.record()
    assert caught.value.field == "records"


def test_every_bad_record_is_named_in_one_refusal(scene: Scene) -> None:
    head = scene.app.head()
    with pytest.raises(AttendanceInvalid) as caught:
        scene.record(
            Mark(scene.early, "partial"),  # no minutes
            Mark(scene.same_day, "present"),  # fine
            Mark(scene.late, "absent"),  # enrolled after the session
            Mark(scene.early, "present"),  # twice
            Mark(scene.gone, "asleep"),  # unknown status, and withdrawn before it
        )
    assert caught.value.field == "records.0.minutes"  # the first problem
    assert [e["field"] for e in caught.value.errors or []] == [
        "records.0.minutes",
        "records.2.person_id",
        "records.3.person_id",
        "records.4.status",
        "records.4.person_id",
    ]
    assert caught.value.message.startswith("5 problems in the records, the first records.0")
    assert scene.app.head() == head


def test_a_refusal_of_people_not_enrolled_names_each_of_them(scene: Scene) -> None:
    with pytest.raises(NotEnrolledOnSessionDay) as caught:
        scene.record(Mark(scene.late, "absent"), Mark(scene.gone, "absent"))
    assert [e["field"] for e in caught.value.errors or []] == [
        "records.0.person_id",
        "records.1.person_id",
    ]
