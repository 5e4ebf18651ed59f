"""Smoke tests of the real-infrastructure layer: a real Kafka broker and a real PostgreSQL.

Owns the proof that tests/support/services.py hands out working services: Kafka round trip,
Kafka data surviving a broker restart, and a PostgreSQL write/read.
"""

from __future__ import annotations

import uuid

import psycopg
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from tests.support.kafka_broker import KafkaBroker

MESSAGES = [b"first", b"second", b"third"]


def _produce(bootstrap_servers: str, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    try:
        for value in values:
            producer.send(topic, value=value, key=b"k")
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)


def _consume_from_beginning(bootstrap_servers: str, topic: str, expected: int) -> list[bytes]:
    # Manual assignment: no consumer group join, so nothing waits on a rebalance.
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
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


def test_kafka_round_trip_preserves_order(kafka_bootstrap_servers: str) -> None:
    topic = f"infra-roundtrip-{uuid.uuid4().hex[:8]}"
    _produce(kafka_bootstrap_servers, topic, MESSAGES)
    assert _consume_from_beginning(kafka_bootstrap_servers, topic, len(MESSAGES)) == MESSAGES


def test_kafka_messages_survive_broker_restart(kafka_broker: KafkaBroker) -> None:
    topic = f"infra-restart-{uuid.uuid4().hex[:8]}"
    bootstrap = kafka_broker.bootstrap_servers
    _produce(bootstrap, topic, MESSAGES)

    kafka_broker.stop()
    assert not kafka_broker.running
    kafka_broker.start()

    assert kafka_broker.bootstrap_servers == bootstrap
    assert _consume_from_beginning(bootstrap, topic, len(MESSAGES)) == MESSAGES


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
