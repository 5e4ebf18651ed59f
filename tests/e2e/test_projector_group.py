"""Two ``polku project`` processes in one consumer group, on one PostgreSQL read model.

The topics have several partitions; the group splits them between the two projectors, each
storing its partitions' positions with the views it writes. Events keep arriving, one
projector is killed with SIGKILL in the middle, and the other takes its partitions over from
the stored positions. At the end the read models must equal an embedded rebuild of the same
log, with every event applied once and nothing dead-lettered.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from services.runtime import WriteService, build_write_service
from services.tracking.comparison import compare
from services.tracking.projector import Projector
from services.tracking.readmodels import ReadModels
from shared import kafka
from shared.events import restricted_registry
from shared.feeds import OutboxFeed
from shared.settings import Settings
from shared.sql import Database
from tests.e2e.test_processes import Processes
from tests.support.cohort_events import enrol_cohort
from tests.support.kafka_acls import Principals
from tests.support.slice import SECRET, wait_for


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    yield running
    running.stop()


def write_events(service: WriteService, people: int, tag: str) -> None:
    """A cohort with ``people`` enrolled, each a subject of their own; every third withdraws."""
    enrol_cohort(service, people, tag, departments=4, withdraw_every=3)


def published(service: WriteService) -> int:
    """How many integration events the log holds: what the ledger must hold in the end."""
    return len(service.outbox.read(0, service.application.head() + 1).envelopes)


def assigned(log: Path, topic: str) -> set[int] | None:
    """The partitions of ``topic`` a projector's latest assignment gave it (None: none yet)."""
    lines = [line for line in log.read_text().splitlines() if "assigned partitions:" in line]
    if not lines:
        return None
    return {int(p) for p in re.findall(rf"{re.escape(topic)}\[(\d+)\]", lines[-1])}


def members(principals: Principals, group: str) -> list[dict[str, Any]]:
    """The group's members; none while its coordinator is still being set up."""
    admin = KafkaAdminClient(**principals.config("admin"), client_id="polku-test-group")
    try:
        described = admin.describe_groups([group])
    except KafkaError:  # the coordinator is not available yet: ask again
        return []
    finally:
        admin.close()
    group_info = described.get(group, {}) if isinstance(described, dict) else {}
    return list(group_info.get("members") or [])


def test_two_projectors_share_the_partitions_and_one_takes_over_when_the_other_is_killed(
    fresh_postgres_url: str,
    kafka_principals: Principals,
    tmp_path: Path,
    processes: Processes,  # last, so its processes stop before their database is dropped
) -> None:
    prefix = f"pg{uuid.uuid4().hex[:8]}"
    group = f"{prefix}-tracking"
    kafka_principals.grant(prefix, group, f"{prefix}-other")
    settings = Settings(
        data_dir=tmp_path / "write",
        kafka_bootstrap_servers=kafka_principals.bootstrap_servers,
        **kafka_principals.settings("admin"),
        kafka_topic_prefix=prefix,
        jwt_secret=SECRET,
        master_key_file=tmp_path / "master.key",
        relay_batch_size=50,
    )
    service = build_write_service(settings, "enrolment")
    relay = service.relay(settings)
    live = ReadModels(Database(fresh_postgres_url))
    env = {
        "POLKU_TRACKING_DATABASE_URL": fresh_postgres_url,
        "POLKU_KAFKA_BOOTSTRAP_SERVERS": kafka_principals.bootstrap_servers,
        "POLKU_KAFKA_TOPIC_PREFIX": prefix,
        "POLKU_KAFKA_GROUP_ID": group,
        "POLKU_FEED": "kafka",
        "POLKU_JWT_SECRET": SECRET,
        "POLKU_POLL_INTERVAL": "0.05",
        **kafka_principals.env("tracking"),
    }

    def applied_all() -> bool:
        return live.count("tr_applied_events") == published(service)

    try:
        write_events(service, 12, "first")
        relay.drain()
        projectors = [
            processes.start(
                f"projector-{n}",
                ["--verbose", "project"],  # logs each assignment of partitions
                {**env, "POLKU_DATA_DIR": str(tmp_path / f"t{n}")},
            )
            for n in (1, 2)
        ]
        wait_for(
            lambda: (found := members(kafka_principals, group)) and len(found) == 2 and found,
            120,
            "both projectors to join the group",
        )
        wait_for(applied_all, 120, "the first events to be applied")

        write_events(service, 16, "shared")  # spread over the partitions of both projectors
        relay.drain()
        wait_for(applied_all, 120, "both projectors to apply the shared events")
        topic = kafka.topic_of("enrolment", prefix)

        everything = set(range(settings.kafka_partitions))

        def split() -> bool:
            first, second = (assigned(tmp_path / f"projector-{n}.log", topic) for n in (1, 2))
            if not first or not second:
                return False
            return not first & second and first | second == everything

        # Each holds some of the partitions, together all of them, none twice (their logs).
        wait_for(split, 60, "the group to split the partitions between the projectors")

        write_events(service, 16, "during")
        relay.drain()
        victim, survivor = projectors
        victim.kill()  # SIGKILL, perhaps in the middle of a batch: its transaction rolls back
        assert victim.wait(timeout=30) == -9
        write_events(service, 16, "after")
        relay.drain()
        # The group notices the missing member after its session timeout (45 s), then
        # rebalances.
        wait_for(applied_all, 180, "the survivor to take the killed projector's partitions over")
        assert survivor.poll() is None
        wait_for(
            lambda: assigned(tmp_path / "projector-2.log", topic) == everything,
            90,
            "the survivor to be assigned every partition",
        )
        assert live.count("tr_dead_letters") == 0

        expected = ReadModels(Database(f"sqlite:///{tmp_path / 'embedded.sqlite'}"))
        expected.create()
        rebuild = Projector(
            expected, OutboxFeed({"enrolment": service.tracking_outbox}), restricted_registry()
        )
        try:
            assert rebuild.drain() == published(service)
            comparison = compare(live.database, expected.database)
        finally:
            expected.database.close()
        assert comparison.identical, "\n".join(comparison.lines())
    except BaseException:
        print(processes.logs())
        raise
    finally:
        relay.close()
        live.database.close()
        service.close()
