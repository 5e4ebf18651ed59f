"""Topics and the readiness probe against a real Kafka broker."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaAdminClient

from shared import kafka
from tests.support.kafka_acls import Principals


@pytest.fixture
def admin(kafka_principals: Principals) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(**kafka_principals.config("admin"), client_id="test-topics")
    yield client
    client.close()


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"  # topics of one test, apart from the others on the broker


def test_created_topics_keep_every_event(
    kafka_principals: Principals, admin: KafkaAdminClient, prefix: str
) -> None:
    kafka.ensure_topics(
        kafka_principals.bootstrap_servers,
        ("enrolment", "assessment"),
        prefix,
        kafka_principals.security("admin"),
    )
    topics = kafka.topics_of(("enrolment", "assessment"), prefix)
    assert kafka.topic_retention(admin, topics) == {
        topic: {"retention.ms": -1, "retention.bytes": -1} for topic in topics
    }
    partitions = admin.describe_topics(topics)
    assert [len(t["partitions"]) for t in partitions] == [kafka.TOPIC_PARTITIONS] * 3


def test_an_existing_topic_that_expires_events_is_reported_not_altered(
    kafka_principals: Principals,
    admin: KafkaAdminClient,
    prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    topic = kafka.topic_of("enrolment", prefix)
    admin.create_topics(
        {
            topic: {
                "num_partitions": 1,
                "replication_factor": 1,
                "configs": {"retention.ms": "3600000"},
            }
        },
        wait_for_metadata=True,  # so that ensure_topics lists it rather than races to create it
    )
    with caplog.at_level(logging.WARNING, logger="polku.kafka"):
        kafka.ensure_topics(
            kafka_principals.bootstrap_servers,
            ("enrolment",),
            prefix,
            kafka_principals.security("admin"),
        )
    warnings = [r.getMessage() for r in caplog.records if r.name == "polku.kafka"]
    assert len(warnings) == 1, warnings
    assert topic in warnings[0] and "retention.ms=3600000" in warnings[0]
    # An operator's setting is theirs to change: Polku only says so.
    assert kafka.topic_retention(admin, [topic])[topic]["retention.ms"] == 3600000


def test_the_probe_answers_for_a_live_broker_and_closes_what_it_opened(
    kafka_principals: Principals,
) -> None:
    servers, security = kafka_principals.bootstrap_servers, kafka_principals.security("relay")
    kafka.forget_probes()
    kafka.ping(servers, security=security)  # warm-up: the first connection may set up state
    threads, fds = threading.active_count(), len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        kafka.probe(servers, security=security)
    assert threading.active_count() - threads <= 1, [t.name for t in threading.enumerate()]
    assert len(os.listdir("/proc/self/fd")) - fds <= 3
    kafka.forget_probes()
