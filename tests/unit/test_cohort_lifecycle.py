"""Programmes (goals, retirement) and the cohort lifecycle: planned → open → running →
completed, or cancelled with a reason; effective dates never in the future."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.cohorts import (
    CoachAlreadyAssigned,
    Cohort,
    CohortStatusForbids,
    IllegalTransition,
)
from services.enrolment.domain.dates import EffectiveDateInFuture
from services.enrolment.domain.enrolments import DateBeforeEarlierStep
from services.enrolment.domain.programmes import (
    GoalAlreadyListed,
    GoalRepeated,
    Programme,
    ProgrammeRetired,
)
from shared.errors import ConflictError, RuleViolation
from tests.unit.factories import meta

FEB_1, JUN_30 = dt.date(2020, 2, 1), dt.date(2020, 6, 30)
TOMORROW_EVERYWHERE = dt.date.today() + dt.timedelta(days=3)


def plan(capacity: int = 2) -> Cohort:
    return Cohort.plan(uuid.uuid4(), "Spring 2020", capacity, FEB_1, JUN_30, meta(), "Kaiku")


# Programmes -----------------------------------------------------------------------------------


def test_goals_are_added_in_order_and_never_twice() -> None:
    programme = Programme("Leadership", "TEM", "", ["grow"], meta())
    programme.add_goal("rotate", meta())
    assert programme.goals == ["grow", "rotate"]
    with pytest.raises(GoalAlreadyListed) as caught:
        programme.add_goal("grow", meta())
    assert caught.value.field == "goal"


def test_a_programme_is_defined_with_each_goal_once() -> None:
    with pytest.raises(GoalRepeated) as caught:
        Programme.define("Leadership", "TEM", "", ["grow", "rotate", "grow"], meta())
    assert caught.value.field == "goals.2"
    assert isinstance(caught.value, RuleViolation)
    assert Programme.define("Leadership", "TEM", "", ["grow"], meta()).goals == ["grow"]


def test_a_retired_programme_takes_no_goals_and_is_not_retired_twice() -> None:
    programme = Programme("Leadership", "TEM", "", [], meta())
    programme.retire("replaced by TEMPO 2", meta(), on=dt.date(2023, 1, 1))
    assert (programme.retired_on, programme.retirement_reason) == (
        dt.date(2023, 1, 1),
        "replaced by TEMPO 2",
    )
    with pytest.raises(ProgrammeRetired):
        programme.add_goal("late", meta())
    with pytest.raises(ProgrammeRetired):
        programme.retire("again", meta())


def test_a_retired_programme_plans_and_opens_no_new_cohorts(
    enrolment: EnrolmentApplication,
) -> None:
    programme_id = enrolment.define_programme("Leadership", "TEM", meta()).id
    planned = enrolment.plan_cohort(programme_id, "Before", 5, FEB_1, JUN_30, meta()).id
    enrolment.retire_programme(programme_id, "ended", meta())
    head = enrolment.head()
    with pytest.raises(ProgrammeRetired) as caught:
        enrolment.plan_cohort(programme_id, "After", 5, FEB_1, JUN_30, meta())
    assert caught.value.field == "programme_id"
    with pytest.raises(ProgrammeRetired):
        enrolment.change_cohort_status(planned, "open", meta())
    assert enrolment.head() == head


# Cohort lifecycle -----------------------------------------------------------------------------


def test_a_cohort_runs_its_course_and_keeps_each_step() -> None:
    cohort = plan()
    assert (cohort.status, cohort.funding_source) == ("planned", "Kaiku")
    cohort.open(meta(), on=dt.date(2020, 1, 15))
    cohort.start(meta(), on=FEB_1)
    cohort.complete(meta(), on=JUN_30)
    assert cohort.status == "completed"
    assert [(c["status"], c["on"]) for c in cohort.status_changes] == [
        ("open", dt.date(2020, 1, 15)),
        ("running", FEB_1),
        ("completed", JUN_30),
    ]


@pytest.mark.parametrize(
    ("steps", "attempt", "current"),
    [
        ([], "start", "planned"),
        ([], "complete", "planned"),
        (["open"], "open", "open"),
        (["open"], "complete", "open"),
        (["open", "start"], "start", "running"),
        (["open", "start", "complete"], "cancel", "completed"),
        (["cancel"], "open", "cancelled"),
    ],
)
def test_an_illegal_transition_is_a_conflict_naming_the_current_status(
    steps: list[str], attempt: str, current: str
) -> None:
    cohort = plan()
    for step in steps:
        if step == "cancel":
            cohort.cancel("no funding", meta())
        else:
            getattr(cohort, step)(meta())
    version = cohort.version
    with pytest.raises(IllegalTransition) as caught:
        if attempt == "cancel":
            cohort.cancel("why", meta())
        else:
            getattr(cohort, attempt)(meta())
    assert isinstance(caught.value, ConflictError)
    assert f"the cohort is {current}" in caught.value.message
    assert cohort.version == version


@pytest.mark.parametrize("steps", [[], ["open"], ["open", "start"]])
def test_a_cohort_that_has_not_ended_can_be_cancelled_with_a_reason(steps: list[str]) -> None:
    cohort = plan()
    for step in steps:
        getattr(cohort, step)(meta())
    cohort.cancel("pandemic", meta())
    assert (cohort.status, cohort.cancellation_reason) == ("cancelled", "pandemic")


def test_an_effective_date_in_the_future_is_refused() -> None:
    cohort = plan()
    with pytest.raises(EffectiveDateInFuture) as caught:
        cohort.open(meta(), on=TOMORROW_EVERYWHERE)
    assert caught.value.field == "on"
    assert isinstance(caught.value, RuleViolation)
    assert cohort.status == "planned"


@pytest.mark.parametrize("step", ["start", "cancel"])
def test_a_step_is_not_dated_before_the_step_it_follows(step: str) -> None:
    cohort = plan()
    cohort.open(meta(), on=FEB_1)
    version = cohort.version
    args = ("pandemic",) if step == "cancel" else ()
    with pytest.raises(DateBeforeEarlierStep) as caught:
        getattr(cohort, step)(*args, meta(), on=FEB_1 - dt.timedelta(days=1))
    assert caught.value.field == "on"
    assert "before the cohort became open (2020-02-01)" in caught.value.message
    assert (cohort.status, cohort.version) == ("open", version)
    getattr(cohort, step)(*args, meta(), on=FEB_1)  # the same day is fine


def test_the_default_effective_date_is_today() -> None:
    cohort = plan()
    cohort.open(meta())
    assert cohort.status_changes[0]["on"] == dt.datetime.now(dt.UTC).date()


def test_coaches_are_assigned_once_and_not_to_a_cancelled_cohort() -> None:
    cohort = plan()
    cohort.assign_coach("coach-1", "ref-coach-1", meta())
    with pytest.raises(CoachAlreadyAssigned) as caught:
        cohort.assign_coach("coach-1", "ref-coach-1", meta())
    assert caught.value.field == "coach"
    cohort.cancel("no funding", meta())
    with pytest.raises(CohortStatusForbids):
        cohort.assign_coach("coach-2", "ref-coach-2", meta())
    assert cohort.coaches == ["coach-1"]


def test_an_earlier_version_of_a_cohort_can_be_read(enrolment: EnrolmentApplication) -> None:
    programme_id = enrolment.define_programme("Leadership", "TEM", meta()).id
    cohort_id = enrolment.plan_cohort(programme_id, "C", 5, FEB_1, JUN_30, meta()).id
    enrolment.change_cohort_status(cohort_id, "open", meta())
    assert enrolment.cohort(cohort_id, version=1).status == "planned"
    assert enrolment.cohort(cohort_id).status == "open"


def test_a_stale_expected_version_changes_nothing(enrolment: EnrolmentApplication) -> None:
    programme_id = enrolment.define_programme("Leadership", "TEM", meta()).id
    cohort_id = enrolment.plan_cohort(programme_id, "C", 5, FEB_1, JUN_30, meta()).id
    enrolment.change_cohort_status(cohort_id, "open", meta(), expected_version=1)
    head = enrolment.head()
    with pytest.raises(ConflictError):
        enrolment.change_cohort_status(cohort_id, "start", meta(), expected_version=1)
    assert enrolment.head() == head
