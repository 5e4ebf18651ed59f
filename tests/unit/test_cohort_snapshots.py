"""Cohorts load from a snapshot: a bounded number of stored events read, the same state.

The events read are counted at the recorder, so the bound is structural, never a timing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from services.enrolment.application import COHORT_SNAPSHOT_EVERY, EnrolmentApplication
from services.enrolment.domain.cohorts import Cohort
from services.enrolment.keystore_setup import InMemoryKeyStore
from shared.settings import Settings
from tests.unit.factories import meta, person_fields

PEOPLE = 130
"""Enough for a history of several snapshot intervals (an invitation and more per person)."""


@pytest.fixture
def app(settings: Settings) -> Iterator[EnrolmentApplication]:
    application = EnrolmentApplication(
        settings.eventstore_env("enrolment"), keystore=InMemoryKeyStore()
    )
    yield application
    application.close()


def busy_cohort(app: EnrolmentApplication) -> UUID:
    """A cohort with a varied history: invitations, acceptances (more than its places, so a
    waitlist), declines, withdrawals and a completion."""
    programme = app.define_programme("P", "TEM", meta())
    start = dt.date(2024, 1, 8)
    cohort = app.plan_cohort(programme.id, "C", 60, start, dt.date(2024, 6, 28), meta())
    app.change_cohort_status(cohort.id, "open", meta(), on=dt.date(2024, 1, 1))
    people = app.register_people(
        [person_fields(employee_number=f"E-{n}") for n in range(PEOPLE)], meta()
    )
    for n, person in enumerate(people):
        app.invite(cohort.id, person.id, meta(), on=dt.date(2024, 1, 2))
        if n % 4 == 0:
            app.decline_invitation(cohort.id, person.id, "busy", meta(), on=dt.date(2024, 1, 3))
            continue
        app.accept_invitation(cohort.id, person.id, meta(), on=dt.date(2024, 1, 3))
        if n % 9 == 1:
            app.withdraw(cohort.id, person.id, "moved", meta(), on=dt.date(2024, 1, 4))
    app.change_cohort_status(cohort.id, "start", meta(), on=start)
    app.complete_participation(cohort.id, people[2].id, meta(), on=dt.date(2024, 6, 28))
    return cohort.id


def replayed(app: EnrolmentApplication, cohort_id: UUID, version: int | None = None) -> Cohort:
    """The cohort rebuilt from every one of its events, no snapshot."""
    aggregate: Any = None
    for stored in app.events.get(cohort_id, lte=version):
        aggregate = stored.mutate(aggregate)
    return aggregate  # type: ignore[no-any-return]


class EventsRead:
    """Counts the stored events the application's recorder hands out."""

    def __init__(self, app: EnrolmentApplication) -> None:
        self.count = 0
        recorder = app.recorder
        original = recorder.select_events

        def counting(*args: Any, **kwargs: Any) -> Any:
            events = original(*args, **kwargs)
            self.count += len(events)
            return events

        recorder.select_events = counting  # type: ignore[method-assign]


def test_loading_a_cohort_reads_a_bounded_number_of_events(
    app: EnrolmentApplication, settings: Settings
) -> None:
    cohort_id = busy_cohort(app)
    history = app.cohort(cohort_id).version
    assert history > 4 * COHORT_SNAPSHOT_EVERY
    # A fresh application, as a newly started process: nothing cached in memory yet.
    fresh = EnrolmentApplication(settings.eventstore_env("enrolment"), keystore=InMemoryKeyStore())
    try:
        read = EventsRead(fresh)
        assert fresh.cohort(cohort_id).version == history
        assert 0 < read.count < COHORT_SNAPSHOT_EVERY
    finally:
        fresh.close()


def test_a_cohort_from_its_snapshot_is_the_cohort_replayed(app: EnrolmentApplication) -> None:
    cohort_id = busy_cohort(app)
    loaded = app.cohort(cohort_id)
    assert vars(loaded) == vars(replayed(app, cohort_id))
    statuses = {p.status for p in loaded.participations.values()}
    assert statuses == {"declined", "enrolled", "waitlisted", "withdrawn", "completed"}
    assert loaded.waitlist and loaded.roster
    for version in (
        COHORT_SNAPSHOT_EVERY - 1,
        COHORT_SNAPSHOT_EVERY,
        2 * COHORT_SNAPSHOT_EVERY + 3,
    ):
        assert vars(app.cohort(cohort_id, version=version)) == vars(
            replayed(app, cohort_id, version)
        )


def test_commands_on_a_snapshotted_cohort_behave_as_before(app: EnrolmentApplication) -> None:
    cohort_id = busy_cohort(app)
    enrolled = [p.person_id for p in app.cohort(cohort_id).participations.values()]
    someone = next(
        p for p in enrolled if app.cohort(cohort_id).participation(p).status == "enrolled"
    )
    cohort = app.complete_participation(cohort_id, someone, meta(), on=dt.date(2024, 6, 28))
    assert cohort.participation(someone).status == "completed"
    assert vars(app.cohort(cohort_id)) == vars(replayed(app, cohort_id))


def test_a_snapshot_another_process_took_first_does_not_fail_the_command(
    app: EnrolmentApplication,
) -> None:
    cohort_id = busy_cohort(app)
    version = app.cohort(cohort_id).version
    app.take_snapshot(cohort_id, version)
    app.take_snapshot(cohort_id, version)  # the same version again: a lost race, harmless
    assert vars(app.cohort(cohort_id)) == vars(replayed(app, cohort_id))
