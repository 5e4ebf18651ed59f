"""The same event-store behaviour on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.enrolment.application import COHORT_SNAPSHOT_EVERY, EnrolmentApplication
from services.enrolment.domain.cohorts import Cohort
from services.runtime import WriteService, build_write_service
from shared.errors import ConflictError, NotFoundError
from shared.settings import Settings
from shared.sql import Database

META = {"actor_sub": "t", "actor_role": "coordinator", "correlation_id": "c"}
PERSON = {
    "full_name": "Maija Meikäläinen",
    "email": "maija@example.invalid",
    "employee_number": "E1",
    "organisation": "TEM",
    "department": "D",
    "unit": "U",
}


@pytest.fixture(params=["sqlite", "postgres"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[WriteService]:
    url = request.getfixturevalue("fresh_postgres_url") if request.param == "postgres" else None
    built = build_write_service(Settings(data_dir=tmp_path, database_url=url), "enrolment")
    yield built
    built.close()


def plan(app: EnrolmentApplication, capacity: int = 5) -> tuple[object, object]:
    programme = app.define_programme("TEMPO", "TEM", META).id
    cohort = app.plan_cohort(
        programme, "2020", capacity, dt.date(2020, 2, 1), dt.date(2020, 6, 30), META
    ).id
    return programme, cohort


def test_saved_aggregates_reload_with_their_state(service: WriteService) -> None:
    app = service.application
    _, cohort_id = plan(app)
    person = app.register_person(PERSON, META).id
    app.enrol(cohort_id, person, META)
    cohort = app.cohort(cohort_id)
    assert list(cohort.enrolled) == [person]
    assert cohort.version == 2
    assert app.person(person).full_name == "Maija Meikäläinen"


def test_notifications_are_read_strictly_after_a_position(service: WriteService) -> None:
    app = service.application
    plan(app)
    ids = [n.id for n in app.notifications_after(0, 10)]
    assert len(ids) == 2 and ids == sorted(ids)
    assert [n.id for n in app.notifications_after(ids[0], 10)] == ids[1:]
    assert app.head() == ids[-1]


def test_a_lost_race_is_a_conflict_and_writes_nothing(service: WriteService) -> None:
    app = service.application
    _, cohort_id = plan(app)
    first = app.register_person(PERSON, META).id
    second = app.register_person({**PERSON, "employee_number": "E2"}, META).id
    stale: Cohort = app.repository.get(cohort_id)
    app.enrol(cohort_id, first, META)
    head = app.head()
    stale.enrol(second, META)
    with pytest.raises(ConflictError):
        app.save_all(stale)
    assert app.head() == head
    assert list(app.cohort(cohort_id).enrolled) == [first]


def test_unknown_ids_are_not_found(service: WriteService) -> None:
    app = service.application
    _, cohort_id = plan(app)
    with pytest.raises(NotFoundError):
        app.enrol(cohort_id, cohort_id, META)  # a cohort id is not a person


def test_outbox_and_relay_positions_tolerate_gaps(service: WriteService) -> None:
    """A PostgreSQL sequence leaves gaps on rollback; simulate one by removing a row."""
    app = service.application
    plan(app)
    app.register_person(PERSON, META)
    ids = [n.id for n in app.notifications_after(0, 10)]
    table = "stored_events" if service.database.dialect == "sqlite" else "enrolment_events"
    id_column = "rowid" if service.database.dialect == "sqlite" else "notification_id"
    with service.database.transaction() as cur:
        if service.database.dialect != "sqlite":  # past the append-only trigger, as a DBA
            cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(f"DELETE FROM {table} WHERE {id_column} = ?", (ids[1],))
    batch = service.outbox.read(0, 10)
    assert [e.position for e in batch.envelopes] == [ids[0], ids[2]]
    assert batch.last_position == ids[2]


def test_relay_positions_live_in_the_service_database(service: WriteService) -> None:
    from shared.positions import RelayPositions

    positions = RelayPositions(service.database, "enrolment")
    assert positions.get("kafka") == 0
    positions.put("kafka", 41)
    positions.put("kafka", 42)
    again = RelayPositions(Database(service.database.url), "enrolment")
    assert again.get("kafka") == 42
    again.database.close()


def test_a_cohort_loads_from_its_snapshot_and_reads_few_events(service: WriteService) -> None:
    app = service.application
    _, cohort_id = plan(app, capacity=200)
    people = app.register_people(
        [{**PERSON, "employee_number": f"S-{n}"} for n in range(COHORT_SNAPSHOT_EVERY + 10)], META
    )
    for person in people:
        app.invite(cohort_id, person.id, META)
    read: list[int] = []
    original = app.recorder.select_events

    def counting(*args: Any, **kwargs: Any) -> Any:
        events = original(*args, **kwargs)
        read.append(len(events))
        return events

    app.recorder.select_events = counting  # type: ignore[method-assign]
    latest = len(people) + 1
    # A load at a version bypasses the in-memory cache: what a newly started process reads.
    cohort = app.cohort(cohort_id, version=latest)
    assert cohort.version == latest
    assert 0 < sum(read) < COHORT_SNAPSHOT_EVERY
    replayed: Any = None
    for stored in app.events.get(cohort_id):
        replayed = stored.mutate(replayed)
    assert vars(cohort) == vars(replayed)


def snapshot_versions(app: EnrolmentApplication, aggregate_id: Any) -> list[int]:
    assert app.snapshots is not None
    return [s.originator_version for s in app.snapshots.get(aggregate_id)]


@pytest.mark.parametrize("kept", [2, 3])
def test_only_the_latest_snapshots_are_kept(
    request: pytest.FixtureRequest, tmp_path: Path, kept: int, store: str
) -> None:
    url = request.getfixturevalue("fresh_postgres_url") if store == "postgres" else None
    settings = Settings(data_dir=tmp_path, database_url=url, snapshots_kept=kept)
    service = build_write_service(settings, "enrolment")
    try:
        app = service.application
        _, cohort_id = plan(app, capacity=20)
        people = app.register_people(
            [{**PERSON, "employee_number": f"K-{n}"} for n in range(5)], META
        )
        other_id = plan(app)[1]
        app.take_snapshot(other_id)  # another aggregate's snapshot is never touched
        for person in people:
            app.invite(cohort_id, person.id, META)
            app.take_snapshot(cohort_id)  # versions 2 to 6, each pruning the older ones
        assert snapshot_versions(app, cohort_id) == list(range(7 - kept, 7))
        assert snapshot_versions(app, other_id) == [1]
        # The latest snapshot still loads as the events replayed.
        cohort = app.cohort(cohort_id, version=6)
        replayed: Any = None
        for stored in app.events.get(cohort_id):
            replayed = stored.mutate(replayed)
        assert vars(cohort) == vars(replayed)
    finally:
        service.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)
