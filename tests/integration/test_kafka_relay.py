"""The relay against a real Kafka broker: exactly the outbox, in per-subject order, once."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.runtime import WriteService, build_tracking, build_write_service
from services.tracking.projector import Projector
from services.tracking.readmodels import ReadModels
from shared import kafka
from shared.events import Envelope, default_registry
from shared.feeds import KafkaFeed
from shared.settings import Settings
from shared.sql import Database
from tests.support.cohort_events import enrol_cohort
from tests.support.kafka_acls import Principals
from tests.support.topics import records_to_end

DRAIN_SECONDS = 180
"""A bound for a drain, never a measure: a group join takes seconds when the machine is idle,
and much longer while the suite's other worker loads both cores (it returns when caught up)."""


@pytest.fixture
def settings(tmp_path: Path, kafka_principals: Principals) -> Settings:
    # A topic prefix per test keeps tests on the shared broker apart.
    return Settings(
        data_dir=tmp_path,
        kafka_bootstrap_servers=kafka_principals.bootstrap_servers,
        **kafka_principals.settings("admin"),
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}",
        feed="kafka",
        relay_batch_size=7,  # several batches for the events below
    )


@pytest.fixture
def service(settings: Settings) -> Iterator[WriteService]:
    built = build_write_service(settings, "enrolment")
    yield built
    built.close()


def consume_all(settings: Settings, expected: int) -> list[Envelope]:
    """The enrolment topic from its start to its end offsets: at least ``expected`` records."""
    topic = kafka.topic_of("enrolment", settings.kafka_topic_prefix)
    received = [Envelope.from_json(r.value) for r in records_to_end(settings, [topic])]
    assert len(received) >= expected or not expected, f"only {len(received)} of {expected}"
    return received


def make_events(service: WriteService, people: int) -> int:
    return enrol_cohort(service, people)


def test_relay_publishes_each_event_once_in_subject_order(
    settings: Settings, service: WriteService
) -> None:
    assert settings.kafka_bootstrap_servers
    kafka.ensure_topics(
        settings.kafka_bootstrap_servers,
        ("enrolment",),
        settings.kafka_topic_prefix,
        settings.kafka_security(),
    )
    expected = make_events(service, people=12)
    relay = service.relay(settings)
    try:
        assert relay.drain() == expected
        received = consume_all(settings, expected)
        assert len(received) == expected
        assert len({e.id for e in received}) == expected
        by_subject: dict[str, list[int]] = defaultdict(list)
        for envelope in received:
            by_subject[envelope.subject].append(envelope.aggregateversion)
        for sequences in by_subject.values():
            assert sequences == sorted(sequences) == list(range(1, len(sequences) + 1))
        # The cohort's events went to one partition, keyed by subject, so it saw all 13.
        assert max(len(s) for s in by_subject.values()) == 13

        # Rerunning publishes nothing new, and the stored position is the head of the log.
        assert relay.drain() == 0
        assert relay.positions.get("kafka") == service.application.head()
        assert len(consume_all(settings, expected)) == expected
    finally:
        relay.close()


def test_a_relay_that_crashed_before_storing_its_position_republishes_the_same_ids(
    settings: Settings, service: WriteService
) -> None:
    """At-least-once: a republished batch carries the same ids, so consumers can drop it."""
    assert settings.kafka_bootstrap_servers
    # The broker creates no topic on first use: whoever relays first makes them.
    kafka.ensure_topics(
        settings.kafka_bootstrap_servers,
        ("enrolment",),
        settings.kafka_topic_prefix,
        settings.kafka_security(),
    )
    expected = make_events(service, people=2)
    relay = service.relay(settings)
    try:
        relay.drain()
        relay.positions.put("kafka", 0)  # the crash: the position was never stored
        relay.drain()
        received = consume_all(settings, expected * 2)
        assert len(received) == expected * 2
        assert len({e.id for e in received}) == expected
    finally:
        relay.close()


def relay_all(settings: Settings, service: WriteService, people: int) -> int:
    assert settings.kafka_bootstrap_servers
    kafka.ensure_topics(
        settings.kafka_bootstrap_servers,
        ("enrolment",),
        settings.kafka_topic_prefix,
        settings.kafka_security(),
    )
    events = make_events(service, people)
    relay = service.relay(settings)
    try:
        assert relay.drain() == events
    finally:
        relay.close()
    return events


def project_from_kafka(
    settings: Settings, data_dir: Path, expected: int, **projector_args: Any
) -> tuple[int, int]:
    """Projects until ``expected`` events were handled; returns (applied, dead-lettered)."""
    tracking = build_tracking(settings.with_changes(data_dir=data_dir), **projector_args)
    try:
        deadline = time.monotonic() + DRAIN_SECONDS  # a group join is slow on a busy machine
        while time.monotonic() < deadline:  # until the group has formed and everything is in
            tracking.projector.run_once()
            stats = tracking.projector.stats
            if stats.applied + stats.dead_lettered >= expected:
                break
        return (
            tracking.readmodels.count("tr_applied_events"),
            tracking.readmodels.count("tr_dead_letters"),
        )
    finally:
        tracking.close()


def test_a_projector_with_empty_read_models_replays_the_topic_whatever_the_group_committed(
    settings: Settings, service: WriteService, tmp_path: Path
) -> None:
    """The read models' positions are authoritative, not the consumer group's offsets.

    After the read models are dropped (a new layout, or a fresh database), the same group
    has offsets at the end of the topic; the projector must still start from the beginning.
    """
    events = relay_all(settings, service, 3)
    group = settings.with_changes(kafka_group_id=f"g{uuid.uuid4().hex[:10]}")
    # The first also commits the group's offsets at the end of the topic.
    assert project_from_kafka(group, tmp_path / "first", events) == (events, 0)
    assert project_from_kafka(group, tmp_path / "dropped-and-rebuilt", events) == (events, 0)


def test_unreadable_records_are_dead_lettered_and_the_rest_of_their_batch_applied(
    settings: Settings, service: WriteService, tmp_path: Path
) -> None:
    """A tombstone or garbage among good records loses none of the good ones."""
    assert settings.kafka_bootstrap_servers
    events = relay_all(settings, service, 2)
    topic = kafka.topic_of("enrolment", settings.kafka_topic_prefix)
    producer = kafka.make_producer(settings.kafka_bootstrap_servers, **settings.kafka_security())
    try:
        subject = b"4f1c0000-0000-4000-8000-000000000000"
        for value in (None, b"\xff not json", b"[" * 50_000):
            producer.send(topic, key=subject, value=value)
        producer.flush()
    finally:
        producer.close(timeout=5)
    more = make_events(service, 1)
    relay = service.relay(settings)
    try:
        assert relay.drain() == more
    finally:
        relay.close()
    group = settings.with_changes(kafka_group_id=f"g{uuid.uuid4().hex[:10]}")
    total = events + 3 + more
    assert project_from_kafka(group, tmp_path / "t", total, batch_size=2) == (events + more, 3)


def test_drain_waits_for_the_group_to_form_and_stops_at_the_end_of_each_partition(
    settings: Settings, service: WriteService, tmp_path: Path
) -> None:
    """`polku project --once` on Kafka: an empty poll while joining is not "caught up"."""
    assert settings.kafka_bootstrap_servers
    events = relay_all(settings, service, 3)
    models = ReadModels(Database(settings.with_changes(data_dir=tmp_path / "t").readmodel_url()))
    models.create()
    feed = KafkaFeed(
        settings.kafka_bootstrap_servers,
        f"g{uuid.uuid4().hex[:10]}",
        ("enrolment",),
        models.positions,
        topic_prefix=settings.kafka_topic_prefix,
        poll_timeout_ms=20,  # far shorter than a group join: the first polls come back empty
        **settings.kafka_security(),
    )
    projector = Projector(models, feed, default_registry())
    try:
        drained = projector.drain(timeout=DRAIN_SECONDS)
        # On failure, say what the projector saw: its heads, positions and recorded errors.
        seen = (projector.heads, models.positions(), models.status())
        assert drained == events, seen
        assert projector.drain(timeout=DRAIN_SECONDS) == 0  # caught up: returns at once
        assert models.count("tr_applied_events") == events
    finally:
        feed.close()
        models.database.close()
