"""Two ``polku relay enrolment`` processes on one PostgreSQL store: one leads, the other takes over.

The relays are real processes on real PostgreSQL and Kafka. One holds the advisory lock and
publishes; the standby publishes nothing. The leader is killed with SIGKILL (no clean-up of any
kind), more events are written, and the standby must publish them: the topic then holds every
event of the log, each subject's events in sequence order. Delivery is at least once, so a
batch the leader flushed but had not yet recorded may appear twice, with the same ids; the
order is checked on the events as a consumer dropping repeated ids sees them.
"""

from __future__ import annotations

import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from kafka import KafkaConsumer

from services.runtime import WriteService, build_write_service
from shared import kafka
from shared.events import Envelope
from shared.leader import lock_key
from shared.positions import RelayPositions
from shared.settings import Settings
from tests.e2e.test_processes import Processes
from tests.support.cohort_events import enrol_cohort
from tests.support.kafka_acls import Principals
from tests.support.kafka_broker import free_loopback_port
from tests.support.slice import SECRET, wait_for


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    yield running
    running.stop()


def lock_holders(url: str, key: int) -> list[str]:
    """The application names of the sessions holding the relay's advisory lock."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND ((l.classid::bigint << 32) | l.objid::bigint) = %s",
            (key,),
        ).fetchall()
    return [row[0] for row in rows]


def leading(port: int) -> float | None:
    """The relay's ``polku_relay_leading`` as its /metrics shows it (None until it answers)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith('polku_relay_leading{service="enrolment"}'):
            return float(line.split()[-1])
    raise AssertionError(f"/metrics has no polku_relay_leading:\n{text}")


def write_events(service: WriteService, people: int, tag: str) -> None:
    enrol_cohort(service, people, tag)


def published_ids(service: WriteService) -> list[str]:
    """The ids of every integration event in the service's log."""
    head = service.application.head()
    return [envelope.id for envelope in service.outbox.read(0, head + 1).envelopes]


def topic_contents(principals: Principals, prefix: str, at_least: int) -> list[Envelope]:
    """Every record of the enrolment topic, read from the start until ``at_least`` arrived."""
    consumer = KafkaConsumer(
        kafka.topic_of("enrolment", prefix),
        **principals.config("admin"),  # the relay's principal may only write
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,  # stop iterating once nothing more arrives
        group_id=None,
    )
    try:
        received: list[Envelope] = []
        for _ in range(20):  # bounded: at most 20 quiet periods of 3 s
            received.extend(Envelope.from_json(record.value) for record in consumer)
            if len(received) >= at_least:
                break
    finally:
        consumer.close()
    return received


def test_two_relays_one_publishes_and_the_standby_takes_over_when_the_leader_is_killed(
    fresh_postgres_url: str,
    kafka_principals: Principals,
    tmp_path: Path,
    processes: Processes,  # last, so its processes stop before their database is dropped
) -> None:
    prefix = f"ha{uuid.uuid4().hex[:8]}"
    kafka_principals.grant(prefix, f"{prefix}-tracking", f"{prefix}-other")
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=fresh_postgres_url,
        kafka_bootstrap_servers=kafka_principals.bootstrap_servers,
        **kafka_principals.settings("relay"),
        kafka_topic_prefix=prefix,
        jwt_secret=SECRET,
        master_key_file=tmp_path / "master.key",
    )
    service = build_write_service(settings, "enrolment")
    positions = RelayPositions(service.database, "enrolment")
    key = lock_key("enrolment", prefix)
    env = {
        "POLKU_DATABASE_URL": fresh_postgres_url,
        "POLKU_KAFKA_BOOTSTRAP_SERVERS": kafka_principals.bootstrap_servers,
        "POLKU_KAFKA_TOPIC_PREFIX": prefix,
        "POLKU_JWT_SECRET": SECRET,
        "POLKU_DATA_DIR": str(tmp_path / "var"),
        "POLKU_MASTER_KEY_FILE": str(tmp_path / "master.key"),
        "POLKU_POLL_INTERVAL": "0.05",
        "POLKU_RELAY_BATCH_SIZE": "5",  # many batches: a kill is likely to fall between two
        **kafka_principals.env("relay"),
    }
    try:
        write_events(service, 6, "first")
        ports = {n: free_loopback_port() for n in (1, 2)}
        relays = [
            processes.start(
                f"relay-{n}",
                ["relay", "enrolment", "--host", "127.0.0.1"],
                {**env, "POLKU_METRICS_PORT": str(ports[n])},
            )
            for n in (1, 2)
        ]
        metrics_port = {relay.pid: ports[n] for n, relay in zip((1, 2), relays, strict=True)}

        def caught_up() -> bool:
            return positions.get("kafka") == service.application.head()

        wait_for(caught_up, 60, "the relays to publish the first events")
        holders = wait_for(lambda: lock_holders(fresh_postgres_url, key), 30, "a lock holder")
        assert len(holders) == 1, holders
        leader = next(r for r in relays if holders[0].endswith(f"pid {r.pid}"))
        standby = next(r for r in relays if r is not leader)

        assert standby.poll() is None and leader.poll() is None  # both running
        # Their metrics say the same: the leader reads 1, the standby 0.
        assert wait_for(lambda: leading(metrics_port[leader.pid]), 30, "the leader's metrics") == 1
        standing_by = wait_for(
            lambda: (v,) if (v := leading(metrics_port[standby.pid])) is not None else None,
            30,
            "the standby's metrics",
        )
        assert standing_by == (0,)
        published = published_ids(service)
        received = topic_contents(kafka_principals, prefix, len(published))
        # Only the leader published: every event exactly once, nothing from the standby.
        assert sorted(e.id for e in received) == sorted(published)

        write_events(service, 4, "during")  # the leader may be publishing these when killed
        leader.kill()  # SIGKILL: its PostgreSQL session ends with its socket
        assert leader.wait(timeout=30) == -9
        write_events(service, 4, "after")

        wait_for(caught_up, 60, "the standby to take over and publish the rest")
        assert lock_holders(fresh_postgres_url, key) == [f"polku relay enrolment pid {standby.pid}"]
        assert wait_for(lambda: leading(metrics_port[standby.pid]), 30, "the new leader") == 1

        published = published_ids(service)
        received = topic_contents(kafka_principals, prefix, len(published))
        assert {e.id for e in received} == set(published), "an event was lost"
        seen: set[str] = set()
        by_subject: dict[str, list[int]] = defaultdict(list)
        for envelope in received:  # in the order of the topic (within a partition)
            if envelope.id in seen:
                continue  # at least once: a republished batch, same ids
            seen.add(envelope.id)
            by_subject[envelope.subject].append(envelope.aggregateversion)
        for subject, sequences in by_subject.items():
            assert sequences == list(range(1, len(sequences) + 1)), (subject, sequences)
    except BaseException:
        print(processes.logs())
        raise
    finally:
        service.close()
