"""The restricted topic on a real broker with SASL/SCRAM and ACLs: refusals and the leak proof.

The broker itself refuses the ``other`` principal on ``<prefix>.assessment.restricted`` (no
mock). Then planted scores and comments are recorded, relayed as the ``relay`` principal and
projected from Kafka as ``tracking``; every record of every topic ``other`` can read and every
page of every HTTP feed, read with every role's token, holds none of them, while the views
tracking built from Kafka equal the in-process ones and show the planted values' aggregates.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from werkzeug.test import Client

from services.runtime import Embedded, build_embedded, build_tracking, tracking_app
from shared import kafka
from shared.auth import ROLES, issue_token
from shared.settings import Settings
from tests.support import planted as scene
from tests.support.kafka_acls import Principals
from tests.support.services import unavailable

SECRET = "restricted-" + "x" * 32
FEEDS = ("/enrolment/events", "/assessment/events", "/assessment/restricted/events")
TOPIC_AUTHORIZATION_FAILED = TopicAuthorizationFailedError.errno
READERS = [(role, "alice") for role in ROLES] + [("service", "enrolment-exporter")]


@dataclass(frozen=True)
class Channel:
    principals: Principals
    prefix: str

    @property
    def public(self) -> str:
        return kafka.topic_of("assessment", self.prefix)

    @property
    def restricted(self) -> str:
        return kafka.restricted_topic_of("assessment", self.prefix)

    def settings(self, user: str, data_dir: Path, **changes: Any) -> Settings:
        return Settings(
            data_dir=data_dir,
            jwt_secret=SECRET,
            kafka_bootstrap_servers=self.principals.bootstrap_servers,
            kafka_topic_prefix=self.prefix,
            **self.principals.settings(user),
            **changes,
        )


@pytest.fixture
def channel(kafka_principals: Principals) -> Channel:
    if not kafka_principals.secured:
        unavailable("the restricted topic needs the local broker, which runs SASL with ACLs")
    prefix = f"r{uuid.uuid4().hex[:10]}"
    kafka_principals.grant(prefix, f"{prefix}-tracking", f"{prefix}-other")
    return Channel(kafka_principals, prefix)


def consumer(channel: Channel, user: str, **overrides: Any) -> KafkaConsumer:
    config = {
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "request_timeout_ms": 10_000,
        **overrides,
    }
    return KafkaConsumer(**channel.principals.config(user), **config)


# The broker's refusals ---------------------------------------------------------------------------


def test_the_broker_refuses_other_the_restricted_topic(channel: Channel) -> None:
    reader = consumer(channel, "other")
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            reader.end_offsets([TopicPartition(channel.restricted, 0)])
    finally:
        reader.close()
    admin = KafkaAdminClient(**channel.principals.config("other"))
    try:
        described = admin.describe_topics([channel.public, channel.restricted])
    finally:
        admin.close()
    errors = {topic["name"]: topic["error_code"] for topic in described}
    assert errors == {channel.public: 0, channel.restricted: TOPIC_AUTHORIZATION_FAILED}
    tracking = consumer(channel, "tracking")
    try:
        assert tracking.end_offsets([TopicPartition(channel.restricted, 0)])
    finally:
        tracking.close()


def test_the_broker_refuses_other_in_trackings_consumer_group(channel: Channel) -> None:
    reader = consumer(channel, "other", group_id=f"{channel.prefix}-tracking")
    try:
        reader.subscribe([channel.public])
        deadline = time.monotonic() + 30  # the group's coordinator may take a while to find
        with pytest.raises(GroupAuthorizationFailedError):
            while time.monotonic() < deadline:
                reader.poll(timeout_ms=200)
    finally:
        reader.close()


def test_the_broker_refuses_other_writing_to_a_topic(channel: Channel) -> None:
    producer = KafkaProducer(
        **channel.principals.config("other"), max_block_ms=10_000, request_timeout_ms=5_000
    )
    try:
        # The idempotent producer is refused its producer id: no record is ever sent.
        with pytest.raises(KafkaError):
            producer.send(channel.restricted, b"forged").get(timeout=20)
    finally:
        producer.close(timeout=5)
    reader = consumer(channel, "tracking")
    try:
        ends = reader.end_offsets([TopicPartition(channel.restricted, 0)])
        assert set(ends.values()) == {0}
    finally:
        reader.close()


# The leak proof ----------------------------------------------------------------------------------


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Embedded]:
    """The write services (and an in-process tracking) where the values are planted."""
    runtime = build_embedded(Settings(data_dir=tmp_path / "source", jwt_secret=SECRET))
    yield runtime
    runtime.close()


def plant(runtime: Embedded) -> scene.Planted:
    client = Client(runtime.wsgi)

    def call(method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code in (200, 201), (path, response.get_json())
        return response.get_json()

    planted = scene.plant(call, SECRET)
    runtime.tracking.projector.drain()
    return planted


def relay(channel: Channel, runtime: Embedded, data_dir: Path) -> None:
    settings = channel.settings("relay", data_dir)
    for service in runtime.services.values():
        publisher = service.relay(settings)
        try:
            assert publisher.drain() > 0
        finally:
            publisher.producer.close(timeout=5)


def every_record(channel: Channel, user: str, topics: list[str]) -> bytes:
    """Every record (key, value, headers) of every partition of ``topics``, read as ``user``."""
    reader = consumer(channel, user)
    chunks: list[bytes] = []
    try:
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in reader.partitions_for_topic(topic)
        ]
        ends = reader.end_offsets(partitions)
        reader.assign(partitions)
        reader.seek_to_beginning(*partitions)
        left = {tp for tp, end in ends.items() if end > 0}
        for _ in range(600):
            if not left:
                break
            for tp, records in reader.poll(timeout_ms=200).items():
                for record in records:
                    chunks += [record.key or b"", record.value or b""]
                    chunks += [k.encode() + (v or b"") for k, v in record.headers or []]
                if reader.position(tp) >= ends[tp]:
                    left.discard(tp)
        assert not left, f"{user} could not read to the end of {sorted(map(str, left))}"
    finally:
        reader.close()
    return b"\n".join(chunks)


def feed_bytes(client: Client, path: str, role: str, sub: str) -> bytes | None:
    """Every page of an HTTP feed, or None when the token is refused (403 problem+json)."""
    headers = {"Authorization": f"Bearer {issue_token(SECRET, sub, role)}"}
    pages, after = [], 0
    while True:
        response = client.get(f"{path}?after={after}&limit=50", headers=headers)
        if response.status_code == 403:
            assert response.headers["Content-Type"] == "application/problem+json"
            assert not pages
            return None
        assert response.status_code == 200, response.get_data(as_text=True)
        pages.append(response.get_data())
        page = response.get_json()
        if page["next_after"] is None:  # the page reached the head
            return b"".join(pages)
        after = page["next_after"]


def views(client: Client, planted: scene.Planted) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {issue_token(SECRET, 'viewer', 'coordinator')}"}
    return {
        view: client.get(f"/tracking/cohorts/{planted.cohort_id}/{view}", headers=headers)
        .get_data()
        .decode()
        for view in ("growth", "reaction", "roster")
    }


def test_no_principal_but_tracking_and_no_token_but_trackings_sees_a_planted_value(
    channel: Channel, source: Embedded, tmp_path: Path
) -> None:
    planted = plant(source)
    relay(channel, source, tmp_path / "source")

    readable = sorted(consumer_topics(channel, "other"))
    assert channel.public in readable and channel.restricted not in readable
    assert kafka.topic_of("enrolment", channel.prefix) in readable
    published = every_record(channel, "other", readable)
    assert b"ReactionResponseSubmitted" in published and b"AssessmentResultRecorded" in published
    assert planted.found_in(published) == []
    # The search is able to find them: tracking's topic holds every one.
    full = every_record(channel, "tracking", [channel.restricted])
    assert sorted(planted.found_in(full)) == sorted([*planted.comments, *map(str, planted.scores)])

    client = Client(source.wsgi)
    for role, sub in READERS:
        for path in FEEDS:
            raw = feed_bytes(client, path, role, sub)
            if raw is not None:
                assert "restricted" not in path, (role, sub)
                assert planted.found_in(raw) == [], (path, role, sub)

    tracking_settings = channel.settings(
        "tracking",
        tmp_path / "kafka-tracking",
        feed="kafka",
        kafka_group_id=f"{channel.prefix}-tracking-1",
    )
    tracking = build_tracking(tracking_settings)
    try:
        assert tracking.projector.drain(timeout=90) == source.tracking.readmodels.count(
            "tr_applied_events"
        )
        from_kafka = views(Client(tracking_app(tracking_settings, tracking)), planted)
    finally:
        tracking.close()
    in_process = views(Client(source.wsgi), planted)
    assert from_kafka == in_process
    growth = in_process["growth"]
    for mean in scene.self_means():
        assert f"{round(mean, 4)}" in growth
    for comment in planted.comments:
        assert comment in in_process["reaction"]


def consumer_topics(channel: Channel, user: str) -> set[str]:
    reader = consumer(channel, user)
    try:
        return set(reader.topics())
    finally:
        reader.close()
