"""The relay and the projector against in-memory fakes of Kafka: ordering of commits matters."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from services.runtime import WriteService, build_tracking, build_write_service
from services.tracking.projector import Projector
from shared.events import Envelope
from shared.feeds import Delivery, HttpFeed, OutboxFeed, Poll, delivery_from_record
from shared.settings import Settings
from tests.support.scripted_feed import ScriptedFeed
from tests.unit.factories import meta, person_fields


class BrokerDown(Exception):
    pass


@dataclass
class FakeFuture:
    error: Exception | None = None

    def get(self, timeout: float | None = None) -> None:
        if self.error is not None:
            raise self.error


@dataclass
class FakeProducer:
    """The slice of KafkaProducer the relay uses; records what a broker would have received."""

    fail_flush: bool = False
    sent: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    pending: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    futures: list[FakeFuture] = field(default_factory=list)

    def send(self, topic: str, key: bytes, value: bytes, headers: Any = None) -> FakeFuture:
        self.pending.append((topic, key, value))
        future = FakeFuture()
        self.futures.append(future)
        return future

    def flush(self) -> None:
        if self.fail_flush:
            for future in self.futures:
                future.error = BrokerDown("no broker")
            self.pending.clear()
            return
        self.sent.extend(self.pending)
        self.pending.clear()

    def close(self, timeout: float | None = None) -> None:
        pass


@pytest.fixture
def service(tmp_path: Path) -> Iterator[WriteService]:
    built = build_write_service(Settings(data_dir=tmp_path), "enrolment")
    yield built
    built.close()


def fill(service: WriteService, people: int) -> int:
    app = service.application
    programme = app.define_programme("TEMPO", "TEM", meta()).id
    cohort = app.plan_cohort(
        programme, "2020", people, dt.date(2020, 2, 1), dt.date(2020, 6, 30), meta()
    ).id
    for n in range(people):
        app.enrol(
            cohort, app.register_person(person_fields(employee_number=f"E{n}"), meta()).id, meta()
        )
    return 2 + 2 * people


def test_the_relay_stores_its_position_only_after_a_successful_flush(
    service: WriteService, tmp_path: Path
) -> None:
    total = fill(service, 3)
    producer = FakeProducer(fail_flush=True)
    relay = service.relay(Settings(data_dir=tmp_path, relay_batch_size=4), producer)
    with pytest.raises(BrokerDown):
        relay.run_once()
    assert relay.positions.get("kafka") == 0 and producer.sent == []

    producer.fail_flush = False
    assert relay.drain() == total
    assert relay.positions.get("kafka") == service.application.head()
    keys = [key.decode() for _, key, _ in producer.sent]
    subjects = [Envelope.from_json(value).subject for _, _, value in producer.sent]
    assert keys == subjects  # keyed by subject, so one aggregate stays in one partition
    assert {topic for topic, _, _ in producer.sent} == {"polku.enrolment.events"}


def deliveries(service: WriteService) -> list[Delivery]:
    return [
        Delivery("enrolment", 0, envelope.position, envelope)
        for envelope in service.outbox.read(0, 100).envelopes
    ]


def test_offsets_are_acknowledged_only_after_the_database_commit(
    service: WriteService, tmp_path: Path
) -> None:
    fill(service, 2)
    log: list[str] = []
    batch = deliveries(service)
    feed = ScriptedFeed([Poll(batch, {("enrolment", 0): batch[-1].offset})], log)

    def after_db_commit(poll: Poll) -> None:
        # The views are already visible to a fresh connection when this runs.
        log.append(f"db committed with {tracking.readmodels.count('tr_participation')} enrolments")

    tracking = build_tracking(
        Settings(data_dir=tmp_path / "t"), feed, after_db_commit=after_db_commit
    )
    try:
        assert tracking.projector.run_once() == len(batch)
        assert log == ["db committed with 2 enrolments", "offsets committed"]
        assert tracking.readmodels.positions() == {("enrolment", 0): batch[-1].offset}
    finally:
        tracking.close()


def test_redelivered_events_are_ignored_and_bad_ones_dead_lettered(
    service: WriteService, tmp_path: Path
) -> None:
    fill(service, 2)
    batch = deliveries(service)
    broken = Delivery("enrolment", 0, 999, None, b"{not json", "malformed CloudEvent")
    polls = [
        Poll(batch, {("enrolment", 0): batch[-1].offset}),
        Poll([*batch, broken], {("enrolment", 0): 999}),
    ]
    tracking = build_tracking(Settings(data_dir=tmp_path / "t"), ScriptedFeed(polls, []))
    projector: Projector = tracking.projector
    try:
        assert projector.run_once() == len(batch)
        assert projector.run_once() == 0
        assert projector.stats.duplicates == len(batch)
        assert projector.stats.dead_lettered == 1
        assert tracking.readmodels.count("tr_participation") == 2
        assert tracking.readmodels.count("tr_dead_letters") == 1
        status = tracking.readmodels.status()["sources"]
        assert status[0]["position"] == 999 and status[0]["dead_lettered"] == 1
        assert "malformed" in (status[0]["last_error"] or "")
    finally:
        tracking.close()


def test_an_event_delivered_twice_in_one_batch_is_applied_once(
    service: WriteService, tmp_path: Path
) -> None:
    fill(service, 2)
    batch = deliveries(service)
    doubled = [*batch, *batch]
    polls = [Poll(doubled, {("enrolment", 0): batch[-1].offset})]
    tracking = build_tracking(Settings(data_dir=tmp_path / "t"), ScriptedFeed(polls, []))
    try:
        assert tracking.projector.run_once() == len(batch)
        assert tracking.projector.stats.duplicates == len(batch)
        assert tracking.readmodels.count("tr_applied_events") == len(batch)
        assert tracking.readmodels.count("tr_participation") == 2
    finally:
        tracking.close()


def test_a_batch_racing_another_projector_rolls_back_whole_and_its_retry_skips_the_event(
    service: WriteService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another projector records an event between this one's ledger lookup and its insert."""
    import services.tracking.projector as projector_module

    fill(service, 2)
    batch = deliveries(service)
    polls = [Poll(batch, {("enrolment", 0): batch[-1].offset})]
    tracking = build_tracking(Settings(data_dir=tmp_path / "t"), ScriptedFeed(polls, []))
    real_lookup = projector_module.applied_event_ids
    raced = batch[-1].envelope
    assert raced is not None

    def lookup_before_the_other_commits(cur: Any, ids: list[str]) -> set[str]:
        return real_lookup(cur, ids) - {raced.id}

    # What the other projector committed (on SQLite the write lock serialises the two, so
    # this interleaving is only reachable on PostgreSQL; the outcome must be the same).
    with tracking.readmodels.database.transaction() as cur:
        cur.execute(
            "INSERT INTO tr_applied_events (event_id, source, type, position, time, data, actor)"
            " VALUES (?, 'enrolment', ?, ?, 'then', '{}', 'system:system')",
            (raced.id, raced.type, raced.position),
        )
    monkeypatch.setattr(projector_module, "applied_event_ids", lookup_before_the_other_commits)
    try:
        with pytest.raises(Exception, match="UNIQUE"):
            tracking.projector.run_once()
        assert tracking.readmodels.count("tr_people") == 0  # nothing half-written
        assert tracking.readmodels.positions() == {}
        monkeypatch.setattr(projector_module, "applied_event_ids", real_lookup)
        assert tracking.projector.run_once() == len(batch) - 1
        assert tracking.projector.stats.duplicates == 1
        assert tracking.readmodels.count("tr_applied_events") == len(batch)
    finally:
        tracking.close()


def test_an_idle_in_process_feed_reports_nothing_new(service: WriteService, tmp_path: Path) -> None:
    fill(service, 1)
    tracking = build_tracking(
        Settings(data_dir=tmp_path / "t"), OutboxFeed({"enrolment": service.outbox})
    )
    try:
        assert tracking.projector.drain() == 4
        assert tracking.projector.run_once() is None
        assert tracking.projector.heads == {("enrolment", 0): service.application.head()}
    finally:
        tracking.close()


def test_data_that_breaks_its_schema_is_dead_lettered_when_it_crossed_a_boundary(
    service: WriteService, tmp_path: Path
) -> None:
    fill(service, 1)
    planned = next(d for d in deliveries(service) if d.envelope and "Cohort" in d.envelope.type)
    assert planned.envelope is not None
    tampered = planned.envelope._replace(data={**planned.envelope.data, "capacity": "many"})
    from_kafka = Delivery("enrolment", 3, 7, tampered)  # untrusted, as every remote delivery
    tracking = build_tracking(
        Settings(data_dir=tmp_path / "t"),
        ScriptedFeed([Poll([from_kafka], {("enrolment", 3): 7})], []),
    )
    try:
        assert tracking.projector.run_once() == 0
        assert tracking.readmodels.count("tr_cohorts") == 0
        assert tracking.readmodels.count("tr_applied_events") == 0
        with tracking.readmodels.database.transaction() as cur:
            cur.execute("SELECT error FROM tr_dead_letters")
            (error,) = cur.fetchone()
        assert "capacity" in error
    finally:
        tracking.close()


def test_a_malformed_event_in_an_http_page_is_delivered_for_dead_lettering(
    service: WriteService, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(service, 1)
    good = service.outbox.read(0, 1).envelopes[0]
    page = {
        "events": [good.to_dict(), {"specversion": "0.3", "position": 2}],
        "next_after": 2,
        "head": 4,
    }
    feed = HttpFeed({"enrolment": "http://127.0.0.1:9"}, token="t")
    monkeypatch.setattr(feed, "_get", lambda source, after, limit: page)
    poll = feed.poll({}, 10)
    assert [d.envelope for d in poll.deliveries] == [good, None]
    assert poll.deliveries[1].offset == 2
    assert "specversion" in (poll.deliveries[1].error or "")
    assert poll.cursors == {("enrolment", 0): 2}


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_a_failed_batch_is_retried_as_it_was_and_a_poisonous_event_is_parked(
    service: WriteService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    store: str,
) -> None:
    """Polling again after a failure would move past the batch; it must be retried whole."""
    from services.tracking import projections
    from shared.events import enrolment as contract

    fill(service, 3)
    batch = deliveries(service)
    poisonous = next(d for d in batch if d.envelope and d.envelope.type == contract.COHORT_PLANNED)
    feed = ScriptedFeed([Poll(batch, {("enrolment", 0): batch[-1].offset})], [])

    def broken_handler(*_: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(projections.HANDLERS, contract.COHORT_PLANNED, broken_handler)
    # Savepoints behave differently after an error on PostgreSQL; both stores must park it.
    url = request.getfixturevalue("fresh_postgres_url") if store == "postgres" else None
    settings = Settings(data_dir=tmp_path / "t", tracking_database_url=url)
    tracking = build_tracking(settings, feed, max_attempts=3)
    projector = tracking.projector
    try:
        for _ in range(2):  # the first attempts fail whole and keep the batch
            with pytest.raises(RuntimeError):
                projector.run_once()
            assert tracking.readmodels.count("tr_applied_events") == 0
            assert feed.log == []
        assert projector.run_once() == len(batch) - 1  # the last attempt isolates the culprit
        assert feed.log == ["offsets committed"]
        assert tracking.readmodels.count("tr_participation") == 3
        assert tracking.readmodels.count("tr_cohorts") == 0
        with tracking.readmodels.database.transaction() as cur:
            cur.execute("SELECT event_id, error FROM tr_dead_letters")
            rows = cur.fetchall()
        assert poisonous.envelope is not None
        assert [(r[0], "disk on fire" in r[1]) for r in rows] == [(poisonous.envelope.id, True)]
        assert tracking.readmodels.positions() == {("enrolment", 0): batch[-1].offset}
        assert projector.run_once() is None  # nothing pending, nothing new
    finally:
        tracking.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "tombstone"),
        (b"\xff\xfe not utf-8", "not JSON"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"n": 1' + b"0" * 5000 + b"}", "not JSON"),
        (b'{"specversion": "1.0"}', "malformed CloudEvent"),
        (b"[]", "malformed CloudEvent"),
    ],
)
def test_an_unreadable_kafka_record_becomes_a_dead_letter_not_an_exception(
    value: bytes | None, expected: str
) -> None:
    delivery = delivery_from_record("enrolment", 2, 41, value)
    assert delivery.envelope is None
    assert (delivery.source, delivery.partition, delivery.offset) == ("enrolment", 2, 41)
    assert expected in (delivery.error or "")
    assert delivery.raw == value


def test_a_readable_kafka_record_keeps_its_bytes(service: WriteService) -> None:
    fill(service, 1)
    envelope = service.outbox.read(0, 1).envelopes[0]
    delivery = delivery_from_record("enrolment", 0, 7, envelope.to_json())
    assert delivery.envelope == envelope
    assert delivery.raw == envelope.to_json()
    assert delivery.error is None and not delivery.trusted


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_records_postgresql_cannot_store_are_parked_and_never_stop_projection(
    service: WriteService, tmp_path: Path, request: pytest.FixtureRequest, store: str
) -> None:
    """A NUL in an id, a position past BIGINT, a NUL in the error text: all parked, once."""
    fill(service, 2)
    good = [d.envelope for d in deliveries(service) if d.envelope is not None]
    nul_id = {**good[0].to_dict(), "id": "evil\u0000id"}
    huge = {**good[1].to_dict(), "position": 2**63}
    records = [
        delivery_from_record("enrolment", 0, 0, json.dumps(nul_id).encode()),
        delivery_from_record("enrolment", 0, 1, json.dumps(huge).encode()),
        Delivery("enrolment", 0, 2, None, b"\x00", "unreadable record: got \x00 here"),
        *(Delivery("enrolment", 0, 10 + n, e) for n, e in enumerate(good)),  # from Kafka
    ]
    assert [r.envelope for r in records[:3]] == [None, None, None]
    url = request.getfixturevalue("fresh_postgres_url") if store == "postgres" else None
    settings = Settings(data_dir=tmp_path / "t", tracking_database_url=url)
    feed = ScriptedFeed([Poll(records, {("enrolment", 0): 10 + len(good) - 1})], [])
    tracking = build_tracking(settings, feed)
    try:
        assert tracking.projector.run_once() == len(good)  # the first attempt, not a retry
        assert tracking.projector.stats.dead_lettered == 3
        with tracking.readmodels.database.transaction() as cur:
            cur.execute("SELECT offset_no, error FROM tr_dead_letters ORDER BY offset_no")
            rows = cur.fetchall()
        assert [int(r[0]) for r in rows] == [0, 1, 2]
        assert "\\x00" in rows[2][1] and "\x00" not in rows[2][1]
        assert tracking.readmodels.count("tr_participation") == 2
    finally:
        tracking.close()


def test_a_projector_behind_polls_larger_batches_until_it_has_caught_up(
    service: WriteService, tmp_path: Path
) -> None:
    """A full poll means more is waiting: the next asks for the catch-up size, and a poll
    that comes back short (caught up) returns it to the normal size. Every event is applied
    once, in order."""
    total = fill(service, 20)  # 42 events
    feed = OutboxFeed({"enrolment": service.tracking_outbox})
    asked: list[int] = []
    poll = feed.poll

    def recording(positions: Any, max_records: int) -> Poll:
        asked.append(max_records)
        return poll(positions, max_records)

    feed.poll = recording  # type: ignore[method-assign]
    tracking = build_tracking(
        Settings(data_dir=tmp_path / "t"), feed, batch_size=4, catch_up_batch_size=16
    )
    try:
        assert tracking.projector.drain() == total
        # 4 (full) -> 16 (full) -> 16 (full) -> 16 (6 left: short) -> 4 (nothing)
        assert asked == [4, 16, 16, 16, 4]
        fill_more = service.application.register_person(person_fields(employee_number="X"), meta())
        assert fill_more is not None and tracking.projector.drain() == 1
        assert asked[-2:] == [4, 4]  # caught up: back to the normal size
        assert tracking.readmodels.count("tr_participation") == 20
    finally:
        tracking.close()
