"""Crashes and outages: nothing is lost, nothing is counted twice."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, TopicPartition

from services.runtime import Embedded, Tracking, build_tracking, build_write_service
from shared import kafka
from shared.feeds import Poll
from shared.settings import Settings
from tests.support.kafka_broker import KafkaBroker
from tests.support.slice import Http, load_slice, roster_when, wait_for

Start = Callable[[Settings], Embedded]


class ProjectorKilled(BaseException):
    """Stands in for the process dying: not an Exception, so nothing may swallow it."""


def apply_until_killed(tracking: Tracking) -> None:
    deadline = time.monotonic() + 120  # the first polls may only join the group
    with pytest.raises(ProjectorKilled):
        while time.monotonic() < deadline:
            tracking.projector.run_once()


def committed_offsets(settings: Settings) -> int:
    """The sum of the group's committed offsets on the enrolment topic (0 if none)."""
    topic = kafka.topic_of("enrolment", settings.kafka_topic_prefix)
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        **settings.kafka_security(),
        group_id=settings.kafka_group_id,
        enable_auto_commit=False,
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        offsets = [consumer.committed(TopicPartition(topic, p)) for p in partitions]
    finally:
        consumer.close(autocommit=False)
    return sum(offset or 0 for offset in offsets)


def view_counts(tracking: Tracking) -> dict[str, int]:
    return {
        table: tracking.readmodels.count(table)
        for table in ("tr_people", "tr_cohorts", "tr_participation", "tr_applied_events")
    }


def test_projector_killed_between_database_and_offset_commit_duplicates_nothing(
    kafka_settings: Settings,
) -> None:
    write = build_write_service(kafka_settings, "enrolment")
    relay = write.relay(kafka_settings)
    try:
        app = write.application
        meta = {"actor_sub": "t", "actor_role": "coordinator", "correlation_id": "c"}
        programme = app.define_programme("TEMPO", "TEM", meta).id
        cohort = app.plan_cohort(
            programme, "2020", 20, dt.date(2020, 2, 1), dt.date(2020, 6, 30), meta
        ).id
        for n in range(8):
            person = app.register_person(
                {
                    "full_name": f"P{n}",
                    "email": f"p{n}@example.invalid",
                    "employee_number": f"E-{uuid.uuid4()}",
                    "organisation": "TEM",
                    "department": f"D{n}",
                    "unit": "U",
                },
                meta,
            ).id
            app.enrol(cohort, person, meta)
        assert kafka_settings.kafka_bootstrap_servers
        kafka.ensure_topics(
            kafka_settings.kafka_bootstrap_servers,
            ("enrolment",),
            kafka_settings.kafka_topic_prefix,
            kafka_settings.kafka_security(),
        )
        total = relay.drain()
        assert total == 18

        def kill(_: Poll) -> None:
            raise ProjectorKilled

        crashed = build_tracking(kafka_settings, after_db_commit=kill)
        apply_until_killed(crashed)
        applied_before_crash = crashed.readmodels.count("tr_applied_events")
        assert applied_before_crash > 0, "the crash must come after a database commit"
        crashed.feed.close()  # dies without committing offsets
        crashed.readmodels.database.close()
        assert committed_offsets(kafka_settings) == 0, "no offset may have been committed"

        restarted = build_tracking(kafka_settings)
        try:

            def all_applied() -> bool:
                restarted.projector.run_once()
                return restarted.readmodels.count("tr_applied_events") == total

            wait_for(all_applied, 60, "the restarted projector to apply every event")
            counts = view_counts(restarted)
            assert counts == {
                "tr_people": 8,
                "tr_cohorts": 1,
                "tr_participation": 8,
                "tr_applied_events": 18,
            }
            assert restarted.readmodels.roster(str(cohort)).total == 8

            def offsets_committed() -> bool:
                restarted.projector.run_once()  # offsets are committed only inside a poll
                return committed_offsets(kafka_settings) == total

            wait_for(offsets_committed, 60, "offset commit")
        finally:
            restarted.close()

        # Even a projector that lost its stored positions and rereads the topic from the
        # start in a new group changes nothing: every event id is already applied.
        rereader_settings = kafka_settings.with_changes(kafka_group_id=f"g{uuid.uuid4().hex}")
        rereader = build_tracking(rereader_settings)
        try:
            with rereader.readmodels.database.transaction() as cur:
                cur.execute("DELETE FROM tr_positions")

            def reread_all() -> bool:
                rereader.projector.run_once()
                return rereader.projector.stats.duplicates >= total

            wait_for(reread_all, 60, "the whole topic to be reread as duplicates")
            assert view_counts(rereader) == counts
        finally:
            rereader.close()
    finally:
        relay.close()
        write.close()


def test_commands_succeed_while_kafka_is_down_and_the_relay_catches_up(
    kafka_settings: Settings, kafka_broker: KafkaBroker, start: Start
) -> None:
    runtime = start(kafka_settings)
    http = Http(runtime.wsgi)
    first = load_slice(http, people=2)
    wait_for(roster_when(http, first.cohort_id, 2), 60, "the roster before the outage")

    kafka_broker.stop()
    try:
        assert http.call("GET", "/readyz").status_code == 503
        during = load_slice(http, people=5)  # every command answers 201 with Kafka down
        relay = runtime.relays["enrolment"]
        wait_for(lambda: relay.stats.failures > 0, 60, "the relay to notice the outage")
        assert relay.positions.get("kafka") < runtime.services["enrolment"].application.head()
    finally:
        kafka_broker.start()

    roster = wait_for(roster_when(http, during.cohort_id, 5), 120, "the relay to catch up")
    assert [p["person_id"] for p in roster] == during.people
    assert len(wait_for(roster_when(http, first.cohort_id, 2), 5, "the first roster")) == 2
    head = runtime.services["enrolment"].application.head()
    wait_for(lambda: relay.positions.get("kafka") == head, 30, "the relay position at head")
    # The relay's position is what it published; the projector applies it a moment later.
    # Every event is applied exactly once: never more than the head, and all of it in time.
    applied = lambda: runtime.tracking.readmodels.count("tr_applied_events")  # noqa: E731
    wait_for(lambda: applied() >= head, 30, "the projector to apply the last event")
    assert applied() == head
