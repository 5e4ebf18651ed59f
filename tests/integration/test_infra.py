"""Smoke tests of the real-infrastructure layer: a real Kafka broker and a real PostgreSQL.

Owns the proof that tests/support/services.py hands out working services: Kafka round trip,
Kafka data surviving a broker restart, and a PostgreSQL write/read.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from tests.support.kafka_acls import Principals
from tests.support.kafka_broker import KafkaBroker

MESSAGES = [b"first", b"second", b"third"]


def _produce(config: dict[str, Any], topic: str, values: list[bytes]) -> None:
    # The broker creates no topic as a side effect: the admin does, as in production.
    admin = KafkaAdminClient(**config)
    try:
        admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        admin.close()
    producer = KafkaProducer(**config, acks="all")
    try:
        for value in values:
            producer.send(topic, value=value, key=b"k")
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)


def _consume_from_beginning(config: dict[str, Any], topic: str, expected: int) -> list[bytes]:
    # Manual assignment: no consumer group join, so nothing waits on a rebalance.
    consumer = KafkaConsumer(
        **config,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=15_000,
    )
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        received: list[bytes] = []
        for record in consumer:
            received.append(record.value)
            if len(received) >= expected:
                break
        return received
    finally:
        consumer.close()


def test_kafka_round_trip_preserves_order(kafka_principals: Principals) -> None:
    topic = f"infra-roundtrip-{uuid.uuid4().hex[:8]}"
    config = kafka_principals.config("admin")
    _produce(config, topic, MESSAGES)
    assert _consume_from_beginning(config, topic, len(MESSAGES)) == MESSAGES


def test_kafka_messages_survive_broker_restart(
    kafka_broker: KafkaBroker, kafka_principals: Principals
) -> None:
    topic = f"infra-restart-{uuid.uuid4().hex[:8]}"
    bootstrap = kafka_broker.bootstrap_servers
    config = kafka_principals.config("admin")
    _produce(config, topic, MESSAGES)

    kafka_broker.stop()
    assert not kafka_broker.running
    kafka_broker.start()

    assert kafka_broker.bootstrap_servers == bootstrap
    assert _consume_from_beginning(config, topic, len(MESSAGES)) == MESSAGES


def test_postgres_write_and_read(postgres_url: str) -> None:
    table = f"infra_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url) as conn:
        conn.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, name text NOT NULL)")
        conn.execute(f"INSERT INTO {table} (id, name) VALUES (%s, %s)", (1, "polku"))
        conn.commit()
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(f"SELECT id, name FROM {table}").fetchone()
        conn.execute(f"DROP TABLE {table}")
    assert row == (1, "polku")
