"""Relay leader election: one lock holder publishes, a standby publishes nothing until it leads.

The PostgreSQL lock runs against the session's real server; the relay itself against the
in-memory producer of ``test_relay_and_projector``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from services.runtime import WriteService, build_write_service, relay_leader_lock
from shared.leader import FileLeaderLock, LeadershipLost, PostgresLeaderLock, lock_key
from shared.settings import Settings
from tests.unit.factories import meta, person_fields
from tests.unit.test_relay_and_projector import FakeProducer, fill


@pytest.fixture
def service(tmp_path: Path) -> Iterator[WriteService]:
    built = build_write_service(Settings(data_dir=tmp_path), "enrolment")
    yield built
    built.close()


def test_lock_keys_differ_per_service_and_topic_prefix_and_are_stable() -> None:
    keys = {lock_key(s, p) for s in ("enrolment", "assessment") for p in ("polku", "other")}
    assert len(keys) == 4
    assert lock_key("enrolment", "polku") == lock_key("enrolment", "polku")
    assert all(-(2**63) <= key < 2**63 for key in keys)


def test_a_file_lock_has_one_holder_until_it_is_released(tmp_path: Path) -> None:
    first, second = FileLeaderLock(tmp_path / "x.lock"), FileLeaderLock(tmp_path / "x.lock")
    assert first.acquire() and first.acquire()  # taking it again is a no-op
    assert not second.acquire()
    with pytest.raises(LeadershipLost):
        second.check()
    first.check()
    first.release()
    assert second.acquire()
    second.release()


def test_a_standby_relay_publishes_nothing_until_the_leader_releases(
    service: WriteService, tmp_path: Path
) -> None:
    total = fill(service, 3)
    settings = Settings(data_dir=tmp_path)
    leader_producer, standby_producer = FakeProducer(), FakeProducer()
    leader = service.relay(settings, leader_producer)
    standby = service.relay(settings, standby_producer)
    assert leader.drain() == total
    assert standby.drain() == 0 and not standby.stats.leading
    assert standby_producer.sent == []

    service.application.register_person(person_fields(employee_number="LATER"), meta())
    more = 1
    leader.close()  # a leader that stops gives the lock up; a killed one loses it with the fd
    assert standby.drain() == more  # from the stored position: nothing twice, nothing lost
    assert standby.stats.leading
    assert len(standby_producer.sent) == more
    assert standby.positions.get("kafka") == service.application.head()
    standby.close()


def test_sqlite_relays_lock_a_file_next_to_the_database(tmp_path: Path) -> None:
    lock = relay_leader_lock(Settings(data_dir=tmp_path, kafka_topic_prefix="p"), "enrolment")
    assert isinstance(lock, FileLeaderLock)
    assert lock.path == tmp_path / "enrolment.sqlite.relay-p.lock"


def test_postgres_lock_has_one_holder_and_is_lost_with_its_session(postgres_url: str) -> None:
    key = lock_key("enrolment", "leader-test")
    first = PostgresLeaderLock(postgres_url, key, "first")
    second = PostgresLeaderLock(postgres_url, key, "second")
    try:
        assert first.acquire()
        first.check()
        assert not second.acquire()
        # The leader's session ends (a network failure, a restarted server): the lock goes too.
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            pid = first._conn.info.backend_pid
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(LeadershipLost):
            first.check()
        assert not first.held
        assert second.acquire()
        second.check()
        assert not first.acquire()  # back on a new session, now as the standby
    finally:
        first.release()
        second.release()


def test_a_relay_that_lost_its_lock_stores_no_position(
    service: WriteService, tmp_path: Path
) -> None:
    """The lock is checked after the flush: a relay that lost it leaves the position alone."""
    fill(service, 2)
    relay = service.relay(Settings(data_dir=tmp_path), FakeProducer())
    assert relay.leader is not None
    lock = relay.leader

    class LosesItOnCheck:
        name = "flaky"

        def acquire(self) -> bool:
            return lock.acquire()

        def check(self) -> None:
            raise LeadershipLost("connection gone")

        def release(self) -> None:
            lock.release()

    relay.leader = LosesItOnCheck()
    with pytest.raises(LeadershipLost):
        relay.run_once()
    assert relay.positions.get("kafka") == 0
    relay.close()


@pytest.mark.parametrize("key", [-1, -(2**63), 2**63 - 1, 0x7FFFFFFF, 0x80000000])
def test_the_held_lock_is_found_in_pg_locks_whatever_its_key(postgres_url: str, key: int) -> None:
    """The check rebuilds the 64-bit key from pg_locks' two 32-bit halves, sign included."""
    lock = PostgresLeaderLock(postgres_url, key, "edge")
    try:
        assert lock.acquire()
        lock.check()  # raises if the key were rebuilt wrongly
    finally:
        lock.release()
