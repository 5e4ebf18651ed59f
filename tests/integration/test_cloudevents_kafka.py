"""Every event type round-trips through the official CloudEvents SDK over a real Kafka broker.

Each type in each published form goes onto a topic as the SDK writes it, in structured and in
binary mode (every attribute a record header), and comes back through the SDK's readers equal
to what was sent. The relay's own records are read by the SDK's structured-mode reader too.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cloudevents.http import CloudEvent
from cloudevents.kafka import KafkaMessage, from_binary, from_structured, to_binary, to_structured
from kafka import KafkaConsumer, KafkaProducer

from services.runtime import build_write_service
from shared import kafka
from shared.events import Envelope
from shared.events.envelope import STRUCTURED_CONTENT_TYPE
from shared.settings import Settings
from tests.support.cohort_events import enrol_cohort
from tests.support.event_samples import every_published, sample
from tests.support.kafka_acls import Principals

SUBJECT_KEY = lambda event: event["subject"]  # noqa: E731  the record key Polku uses


def envelope_of(event: CloudEvent) -> Envelope:
    """The SDK's event as Polku's envelope; the SDK adds the record key as ``partitionkey``."""
    attributes = dict(event.get_attributes())
    key = attributes.pop("partitionkey")
    assert (key.decode() if isinstance(key, bytes) else key) == attributes["subject"]
    return Envelope.from_attributes(attributes, event.data)


def read_back(principals: Principals, topic: str, expected: int) -> list[KafkaMessage]:
    consumer = KafkaConsumer(
        topic,
        **principals.config("admin"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=5000,
        group_id=None,
    )
    try:
        messages = []
        for record in consumer:
            headers = {key: value for key, value in record.headers}
            messages.append(KafkaMessage(headers, record.key, record.value))
            if len(messages) == expected:
                break
        return messages
    finally:
        consumer.close()


@pytest.mark.parametrize("mode", ["structured", "binary"])
def test_every_event_type_round_trips_through_the_sdk_over_kafka(
    kafka_principals: Principals, mode: str
) -> None:
    prefix = f"ce{uuid.uuid4().hex[:10]}"
    topic = kafka.topic_of("enrolment", prefix)
    kafka.ensure_topics(
        kafka_principals.bootstrap_servers, ("enrolment",), prefix, kafka_principals.security()
    )
    originals = [sample(t, position=i) for i, t in enumerate(every_published(), start=1)]
    write = to_structured if mode == "structured" else to_binary
    producer = KafkaProducer(**kafka_principals.config("admin"))
    try:
        for original in originals:
            attributes = (
                original.attributes() if mode == "structured" else original.text_attributes()
            )
            message = write(CloudEvent(attributes, original.data), key_mapper=SUBJECT_KEY)
            if mode == "binary":
                assert "ce_causationid" not in message.headers  # left out, never "None"
                assert message.headers["ce_sequence"] == original.sequence.encode()
            producer.send(
                topic,
                key=message.key.encode(),
                value=message.value,
                headers=list(message.headers.items()),
            )
        producer.flush()
    finally:
        producer.close()
    messages = read_back(kafka_principals, topic, len(originals))
    read = from_structured if mode == "structured" else from_binary
    received = [read(m) for m in messages]
    back = [envelope_of(e) for e in received]
    assert sorted(back, key=lambda e: e.position) == originals
    assert {m.key.decode() for m in messages} == {e.subject for e in originals}


def test_the_relays_records_are_read_by_the_sdk(
    kafka_principals: Principals, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        kafka_bootstrap_servers=kafka_principals.bootstrap_servers,
        **kafka_principals.settings("admin"),
        kafka_topic_prefix=f"ce{uuid.uuid4().hex[:10]}",
    )
    service = build_write_service(settings, "enrolment")
    try:
        enrol_cohort(service, 2)
        expected = service.outbox.read(0, 1000).envelopes
        kafka.ensure_topics(
            kafka_principals.bootstrap_servers,
            ("enrolment",),
            settings.kafka_topic_prefix,
            kafka_principals.security(),
        )
        relay = service.relay(settings)
        try:
            relay.drain()
        finally:
            relay.close()
    finally:
        service.close()
    topic = kafka.topic_of("enrolment", settings.kafka_topic_prefix)
    messages = read_back(kafka_principals, topic, len(expected))
    assert {m.headers["content-type"] for m in messages} == {STRUCTURED_CONTENT_TYPE.encode()}
    # The Python SDK's structured reader copies the record's content-type header (the event
    # format, which the Kafka binding requires in structured mode) over datacontenttype; the
    # event's own datacontenttype is application/json. Everything else arrives unchanged.
    received = [from_structured(m) for m in messages]
    assert {e["datacontenttype"] for e in received} == {STRUCTURED_CONTENT_TYPE}
    without_header = [KafkaMessage({}, m.key, m.value) for m in messages]
    back = [envelope_of(from_structured(m)) for m in without_header]
    assert sorted(back, key=lambda e: e.position) == expected
