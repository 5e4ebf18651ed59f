"""The aggregate cache: loads read only the events stored since, other processes' writes are
seen, and a command that fails leaves the cached state as it was."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from services.enrolment.application import EnrolmentApplication
from services.enrolment.keystore_setup import InMemoryKeyStore
from shared.settings import Settings
from tests.unit.factories import meta, person_fields
from tests.unit.test_cohort_snapshots import EventsRead, replayed


@pytest.fixture
def keys() -> InMemoryKeyStore:
    return InMemoryKeyStore()


@pytest.fixture
def app(settings: Settings, keys: InMemoryKeyStore) -> Iterator[EnrolmentApplication]:
    application = EnrolmentApplication(settings.eventstore_env("enrolment"), keystore=keys)
    yield application
    application.close()


@pytest.fixture
def other(settings: Settings, keys: InMemoryKeyStore) -> Iterator[EnrolmentApplication]:
    """Another process's application on the same store (its own cache)."""
    application = EnrolmentApplication(settings.eventstore_env("enrolment"), keystore=keys)
    yield application
    application.close()


def open_cohort(app: EnrolmentApplication, people: int) -> tuple[UUID, list[UUID]]:
    programme = app.define_programme("P", "TEM", meta())
    cohort = app.plan_cohort(
        programme.id, "C", 50, dt.date(2024, 1, 8), dt.date(2024, 6, 28), meta()
    )
    app.change_cohort_status(cohort.id, "open", meta(), on=dt.date(2024, 1, 1))
    registered = app.register_people(
        [person_fields(employee_number=f"E-{n}") for n in range(people)], meta()
    )
    return cohort.id, [p.id for p in registered]


def test_a_cached_cohort_reads_only_the_events_stored_since(
    app: EnrolmentApplication, other: EnrolmentApplication
) -> None:
    cohort_id, people = open_cohort(app, 5)
    for person_id in people[:3]:
        app.invite(cohort_id, person_id, meta())
    app.cohort(cohort_id)
    read = EventsRead(app)
    app.cohort(cohort_id)
    assert read.count == 0
    app.invite(cohort_id, people[3], meta())
    read.count = 0
    app.cohort(cohort_id)
    assert read.count == 0  # this process's own command left the cached cohort current
    other.invite(cohort_id, people[4], meta())
    app.cohort(cohort_id)
    assert read.count == 1  # another process's event is read, and only that one


def test_another_processs_writes_are_seen(
    app: EnrolmentApplication, other: EnrolmentApplication
) -> None:
    cohort_id, people = open_cohort(app, 3)
    app.invite(cohort_id, people[0], meta())
    assert app.cohort(cohort_id).version == other.cohort(cohort_id).version
    other.invite(cohort_id, people[1], meta())
    cohort = app.invite(cohort_id, people[2], meta())  # on the state the other process left
    assert [p.status for p in cohort.participations.values()] == ["invited"] * 3
    assert vars(other.cohort(cohort_id)) == vars(replayed(app, cohort_id))


def test_a_failed_command_leaves_the_cached_cohort_as_it_was(app: EnrolmentApplication) -> None:
    cohort_id, people = open_cohort(app, 2)
    app.invite(cohort_id, people[0], meta())
    before = vars(app.cohort(cohort_id))

    def failing(*aggregates: Any) -> None:
        raise OSError("disk full")

    original = app.save_all
    app.save_all = failing  # type: ignore[method-assign]
    with pytest.raises(OSError):
        app.invite(cohort_id, people[1], meta())
    app.save_all = original  # type: ignore[method-assign]
    assert vars(app.cohort(cohort_id)) == before
    assert people[1] not in app.cohort(cohort_id).participations


def test_a_command_changes_the_cached_cohort_without_copying_it(
    app: EnrolmentApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.enrolment.domain.cohorts import Cohort
    from services.enrolment.domain.snapshots import copy_cohort

    cohort_id, people = open_cohort(app, 3)
    app.invite(cohort_id, people[0], meta())
    copies: list[object] = []
    monkeypatch.setattr(Cohort, "__deepcopy__", lambda c, m: copies.append(c) or copy_cohort(c, m))
    app.invite(cohort_id, people[1], meta())
    assert copies == []  # the command's own cohort: changed in place, under its lock
    reader = app.cohort(cohort_id)
    assert len(copies) == 1  # a read gets a copy
    reader.participations.clear()  # so what a reader does to it never reaches the cache
    assert set(app.cohort(cohort_id).participations) == {people[0], people[1]}


def test_a_command_that_loses_a_race_is_retried_on_the_stored_state(
    app: EnrolmentApplication, other: EnrolmentApplication
) -> None:
    cohort_id, people = open_cohort(app, 3)
    app.invite(cohort_id, people[0], meta())
    other.cohort(cohort_id)
    original = app.save_all
    raced: list[bool] = []

    def after_the_other(*aggregates: Any) -> None:
        if not raced:  # another process saves between this command's load and its save
            raced.append(True)
            other.invite(cohort_id, people[1], meta())
        original(*aggregates)

    app.save_all = after_the_other  # type: ignore[method-assign]
    cohort = app.invite(cohort_id, people[2], meta())
    app.save_all = original  # type: ignore[method-assign]
    assert raced == [True]
    assert set(cohort.participations) == set(people)
    assert vars(app.cohort(cohort_id)) == vars(replayed(app, cohort_id))
    assert vars(other.cohort(cohort_id)) == vars(replayed(app, cohort_id))
