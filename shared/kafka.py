"""The Kafka adapter: topic names, producer and consumer settings, the structured-mode headers.

Envelopes travel in CloudEvents structured mode: the value is the JSON event, the key is the
subject (so one aggregate's events stay in one partition, in order), and a ``content-type``
header says so.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from shared.events.envelope import STRUCTURED_CONTENT_TYPE

TOPIC_PARTITIONS = 6


def topic_of(service: str, prefix: str = "polku") -> str:
    return f"{prefix}.{service}.events"


def make_producer(bootstrap_servers: str, **overrides: Any) -> KafkaProducer:
    """Idempotent, acks=all, batched: the relay sends a batch and flushes once."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers.split(","),
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "compression_type": None,
        "max_in_flight_requests_per_connection": 5,
        "request_timeout_ms": 10_000,
        "delivery_timeout_ms": 30_000,
        "max_block_ms": 10_000,
        # After an outage, reconnect within seconds rather than the default 30 s backoff.
        "reconnect_backoff_max_ms": 2_000,
        "client_id": "polku-relay",
    }
    config.update(overrides)
    return KafkaProducer(**config)


def make_consumer(bootstrap_servers: str, group_id: str, **overrides: Any) -> KafkaConsumer:
    """Offsets are committed by hand, after the read models have committed."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers.split(","),
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        "max_poll_records": 1000,
        # A member that joined before a topic's metadata arrived notices it within seconds.
        "metadata_max_age_ms": 10_000,
        "reconnect_backoff_max_ms": 2_000,
        "client_id": "polku-projector",
    }
    config.update(overrides)
    return KafkaConsumer(**config)


def ensure_topics(bootstrap_servers: str, services: tuple[str, ...], prefix: str = "polku") -> None:
    """Creates the services' topics with enough partitions to scale projectors out."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers.split(","),
        client_id="polku",
        bootstrap_timeout_ms=10_000,  # fail at start-up in seconds, not half a minute
    )
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(topic_of(s, prefix), num_partitions=TOPIC_PARTITIONS, replication_factor=1)
            for s in services
            if topic_of(s, prefix) not in existing
        ]
        if wanted:
            # Another process may win the race; the topic is then what we wanted anyway.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)
    finally:
        admin.close()


STRUCTURED_HEADERS = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]
"""Every record is a structured-mode CloudEvent; the headers never vary."""


def ping(bootstrap_servers: str, timeout_ms: int = 2000) -> None:
    """Raises unless a broker answers a metadata request within the timeout."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers.split(","),
        request_timeout_ms=max(timeout_ms, 1000) + 500,
        bootstrap_timeout_ms=timeout_ms,
        client_id="polku-ping",
    )
    try:
        consumer.topics()
    finally:
        consumer.close()
