"""The Kafka adapter without a broker: the readiness probe leaks nothing, topics never expire."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError

from shared import kafka
from shared.settings import Settings

CLOSED_PORT = "127.0.0.1:9"  # the discard port: nothing listens there on a test machine


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock()
    monkeypatch.setattr(kafka, "_clock", fake)
    kafka.forget_probes()
    yield fake
    kafka.forget_probes()


@pytest.fixture
def uncached(clock: FakeClock) -> Iterator[None]:
    """Each call to ping probes: every probe must clean up, not only one per cache period."""

    def later() -> float:
        clock.now += kafka.PROBE_CACHE_SECONDS + 1
        return clock.now

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kafka, "_clock", later)
        yield


# The readiness probe --------------------------------------------------------------------------


@pytest.fixture
def refusing_ports() -> Iterator[list[str]]:
    """Twenty addresses that refuse connections: bound, never listening."""
    sockets = [socket.socket() for _ in range(20)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        yield [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_failed_probes_leave_no_thread_and_no_socket_behind(refusing_ports: list[str]) -> None:
    with pytest.raises(KafkaError):  # a first call may set up what lives for the process
        kafka.ping(CLOSED_PORT, timeout_ms=200)
    threads, fds = threading.active_count(), open_fds()
    for servers in refusing_ports:  # one address each: no cached answer, every call probes
        with pytest.raises(KafkaError):
            kafka.ping(servers, timeout_ms=200)
    assert threading.active_count() - threads <= 1, [t.name for t in threading.enumerate()]
    assert open_fds() - fds <= 3


def test_a_broker_that_accepts_but_never_answers_leaves_nothing_behind(uncached: None) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        servers = f"127.0.0.1:{silent.getsockname()[1]}"
        threads, fds = threading.active_count(), open_fds()
        for _ in range(5):
            with pytest.raises(KafkaError):
                kafka.ping(servers, timeout_ms=200)
            silent.setblocking(False)
            while True:  # close the server side of what the probe opened
                try:
                    accepted, _ = silent.accept()
                except BlockingIOError:
                    break
                accepted.close()
        assert threading.active_count() - threads <= 1
        assert open_fds() - fds <= 3


def test_a_flood_of_probes_is_answered_from_one_probe(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def failing_probe(servers: str, timeout_ms: int = 2000, security: object = None) -> None:
        calls.append(servers)
        raise KafkaError("down")

    monkeypatch.setattr(kafka, "probe", failing_probe)
    errors = []
    for _ in range(50):
        with pytest.raises(KafkaError) as raised:
            kafka.ping("broker:9092")
        errors.append(raised.value)
    assert calls == ["broker:9092"]
    assert all(str(e) == str(errors[0]) for e in errors)
    # Each caller gets its own exception, so no shared traceback grows with every raise.
    assert len({id(e) for e in errors}) == len(errors)

    clock.now += kafka.PROBE_CACHE_SECONDS  # the cached answer has expired
    with pytest.raises(KafkaError):
        kafka.ping("broker:9092")
    assert len(calls) == 2


def test_concurrent_probes_share_one_connection(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(kafka, "probe", lambda servers, *_: calls.append(servers))
    outcomes: list[object] = []

    def readyz() -> None:
        kafka.ping("broker:9092")
        outcomes.append("ok")

    threads = [threading.Thread(target=readyz) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["ok"] * 16
    assert calls == ["broker:9092"]


def test_a_success_is_cached_too_and_brokers_are_cached_apart(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(kafka, "probe", lambda servers, *_: calls.append(servers))
    for _ in range(3):
        kafka.ping("a:9092")
        kafka.ping("b:9092")
    assert calls == ["a:9092", "b:9092"]


def test_the_readiness_check_reports_an_unreachable_broker(clock: FakeClock) -> None:
    from services.runtime import broker_probe
    from shared.settings import Settings
    from shared.web import readiness

    check = readiness(broker_probe(Settings(kafka_bootstrap_servers=CLOSED_PORT, feed="kafka")))
    result = check()
    assert result["kafka"].startswith("unreachable: ")
    assert "127.0.0.1:9" in result["kafka"]


def test_an_admin_client_that_cannot_bootstrap_leaves_no_thread_behind() -> None:
    threads = threading.active_count()
    for _ in range(3):
        with pytest.raises(KafkaError):
            kafka._closed_on_failure(
                KafkaAdminClient, bootstrap_servers=[CLOSED_PORT], bootstrap_timeout_ms=200
            )
    assert threading.active_count() - threads <= 1, [t.name for t in threading.enumerate()]


# Topics ------------------------------------------------------------------------------------


class FakeAdmin:
    """Records what ensure_topics asks of a KafkaAdminClient."""

    topics: dict[str, dict[str, str]] = {}
    created: dict[str, Any] = {}
    closed = False
    raced_by: dict[str, str] | None = None
    unknown_for = 0  # DescribeConfigs calls that find no configs, as for a topic just created
    described = 0

    def __init__(self, **config: Any) -> None:
        self.config = config

    def list_topics(self) -> list[str]:
        return list(self.topics)

    def create_topics(self, new_topics: dict[str, Any], wait_for_metadata: bool) -> None:
        assert wait_for_metadata  # else the retention check can ask before the broker knows
        if self.raced_by is not None:  # another process created them between list and create
            FakeAdmin.topics = {topic: dict(self.raced_by) for topic in new_topics}
            raise TopicAlreadyExistsError()
        FakeAdmin.created.update(new_topics)

    def describe_configs(self, resources: list[Any], config_filter: str) -> dict[str, Any]:
        assert config_filter == "all"  # "modified" would hide a broker-wide default of 7 days
        FakeAdmin.described += 1
        if FakeAdmin.described <= self.unknown_for:  # kafka-python drops the error code
            return {"topic": {r.name: {} for r in resources}}
        return {
            "topic": {
                r.name: {key: {"value": value} for key, value in self.topics[r.name].items()}
                for r in resources
            }
        }

    def close(self) -> None:
        FakeAdmin.closed = True


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> type[FakeAdmin]:
    monkeypatch.setattr(FakeAdmin, "topics", {})
    monkeypatch.setattr(FakeAdmin, "created", {})
    monkeypatch.setattr(FakeAdmin, "closed", False)
    monkeypatch.setattr(FakeAdmin, "raced_by", None)
    monkeypatch.setattr(FakeAdmin, "unknown_for", 0)
    monkeypatch.setattr(FakeAdmin, "described", 0)
    monkeypatch.setattr(kafka, "KafkaAdminClient", FakeAdmin)
    return FakeAdmin


def test_new_topics_keep_their_events_forever(admin: type[FakeAdmin]) -> None:
    kafka.ensure_topics("broker:9092", ("enrolment", "assessment"), "p")
    # The assessment service's restricted channel is a topic of its own, kept as long.
    assert set(admin.created) == {
        "p.enrolment.events",
        "p.assessment.events",
        "p.assessment.restricted",
    }
    for spec in admin.created.values():
        assert spec["num_partitions"] == kafka.TOPIC_PARTITIONS
        assert spec["configs"]["retention.ms"] == "-1"
        assert spec["configs"]["retention.bytes"] == "-1"
    assert admin.closed


def test_new_topics_take_the_configured_number_of_partitions(admin: type[FakeAdmin]) -> None:
    kafka.ensure_topics("broker:9092", ("enrolment",), "p", partitions=12)
    assert {spec["num_partitions"] for spec in admin.created.values()} == {12}
    environ = {"POLKU_KAFKA_PARTITIONS": "12"}
    assert Settings.from_env(environ).kafka_partitions == 12
    assert Settings.from_env({}).kafka_partitions == kafka.TOPIC_PARTITIONS


def test_an_existing_topic_with_a_finite_retention_is_a_warning(
    admin: type[FakeAdmin], caplog: pytest.LogCaptureFixture
) -> None:
    admin.topics = {
        "p.enrolment.events": {"retention.ms": "604800000", "retention.bytes": "-1"},
        "p.assessment.events": {"retention.ms": "-1", "retention.bytes": "-1"},
        "p.assessment.restricted": {"retention.ms": "-1", "retention.bytes": "-1"},
    }
    with caplog.at_level(logging.WARNING, logger="polku.kafka"):
        kafka.ensure_topics("broker:9092", ("enrolment", "assessment"), "p")
    assert admin.created == {}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "p.enrolment.events" in warnings[0]
    assert "retention.ms=604800000" in warnings[0]
    assert "retention.ms=-1" in warnings[0]


def test_existing_topics_that_never_expire_are_not_warned_about(
    admin: type[FakeAdmin], caplog: pytest.LogCaptureFixture
) -> None:
    admin.topics = {"p.enrolment.events": {"retention.ms": "-1", "retention.bytes": "-1"}}
    with caplog.at_level(logging.WARNING, logger="polku.kafka"):
        kafka.ensure_topics("broker:9092", ("enrolment",), "p")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_topics_another_process_created_first_are_checked_too(
    admin: type[FakeAdmin], caplog: pytest.LogCaptureFixture
) -> None:
    admin.raced_by = {"retention.ms": "-1", "retention.bytes": "1073741824"}
    with caplog.at_level(logging.WARNING, logger="polku.kafka"):
        kafka.ensure_topics("broker:9092", ("enrolment",), "p")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "retention.bytes=1073741824" in warnings[0], warnings


def test_a_topic_the_broker_does_not_know_yet_is_asked_about_again(
    admin: type[FakeAdmin], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kafka.time, "sleep", lambda _s: None)
    admin.topics = {"p.enrolment.events": {"retention.ms": "-1", "retention.bytes": "-1"}}
    admin.unknown_for = 2
    retention = kafka.topic_retention(admin(), ["p.enrolment.events"])  # type: ignore[arg-type]
    assert retention == {"p.enrolment.events": {"retention.ms": -1, "retention.bytes": -1}}
    assert admin.described == 3


def test_a_topic_still_unknown_after_the_wait_has_no_retention(
    admin: type[FakeAdmin], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kafka.time, "sleep", lambda _s: None)
    admin.topics = {"p.enrolment.events": {"retention.ms": "-1", "retention.bytes": "-1"}}
    admin.unknown_for = 10**9
    assert kafka.topic_retention(admin(), ["p.enrolment.events"], wait_s=0.0) == {  # type: ignore[arg-type]
        "p.enrolment.events": {}
    }
