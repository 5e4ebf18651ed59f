"""Reading whole Kafka topics in tests: every record up to the end offsets, within a deadline.

A consumer iterated with ``consumer_timeout_ms`` stops after that long without a record, and on
a busy machine the metadata, assignment and first fetch may alone take longer: a test would read
nothing, or part of a topic. Here the partitions are assigned by hand, their end offsets read
first, and polling goes on until every partition is read to its end.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from shared.settings import Settings


def records_to_end(settings: Settings, topics: Sequence[str], timeout: float = 60) -> list[Any]:
    """Every record of ``topics`` from the start up to their end offsets at the call."""
    assert settings.kafka_bootstrap_servers
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        **settings.kafka_security(),
        enable_auto_commit=False,
        group_id=None,
    )
    deadline = time.monotonic() + timeout
    try:
        partitions = []
        for topic in topics:
            numbers = None
            while not numbers:
                numbers = consumer.partitions_for_topic(topic)
                if not numbers and time.monotonic() > deadline:
                    raise AssertionError(f"no partitions of {topic} within {timeout}s")
                if not numbers:
                    time.sleep(0.2)
            partitions += [TopicPartition(topic, n) for n in sorted(numbers)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: list[Any] = []
        while any(consumer.position(p) < ends[p] for p in partitions):
            if time.monotonic() > deadline:
                behind = {str(p): (consumer.position(p), ends[p]) for p in partitions}
                raise AssertionError(f"topics not read to their end in {timeout}s: {behind}")
            for batch in consumer.poll(timeout_ms=500).values():
                records += batch
        return records
    finally:
        consumer.close()
