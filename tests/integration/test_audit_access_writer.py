"""The access log's write path (shared/audit/access_writer.py) on SQLite and a real PostgreSQL:
concurrent readers share commits, several writers (threads, separate logs standing for
processes, and two real processes) still give one gap-free chain that verifies, and an entry
that cannot be written raises for every reader whose entry it was."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shared.audit.access import Access, AccessLog, Filters
from shared.audit.access_writer import AccessLogUnavailable
from shared.audit.verify import Kind
from shared.sql import Database
from tests.support.access_ledger import access_ledger
from tests.support.postgres_server import scratch_database


def entry(subject: str, at: dt.datetime | None = None) -> Access:
    when = (at or dt.datetime.now(dt.UTC)).isoformat()
    return Access(when, "hr_admin", subject, "GET /x/{person_id}", "/x/1", ("p-1",), 200)


@pytest.fixture(scope="module")
def writer_postgres_url(postgres_url: str) -> Iterator[str]:
    with scratch_database(postgres_url) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("writer_postgres_url"))
    return f"sqlite:///{tmp_path / 'access.sqlite'}"


@pytest.fixture
def service() -> str:
    """A table of its own per test, so the module's PostgreSQL database can be shared."""
    return f"w{uuid.uuid4().hex[:8]}"


def run_together(reader: Callable[[int], None], ids: range) -> None:
    """``reader(n)`` for each ``n`` on a thread of its own, all at once; waits for them all."""
    threads = [threading.Thread(target=reader, args=(n,)) for n in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def verified(log: AccessLog, tmp_path: Path, expected: int) -> None:
    ledger = access_ledger(log, tmp_path)
    report = ledger.verify()
    assert report.kind is Kind.NO_CHECKPOINT and report.verified_to == expected, report.line()
    assert ledger.checkpoint() is not None
    report = ledger.verify()
    assert report.kind is Kind.OK and report.verified_to == expected, report.line()
    positions = [e["position"] for e in log.query(Filters(), 0, expected + 10)]
    assert positions == list(range(1, expected + 1))


def test_queued_readers_share_one_commit(url: str, service: str, tmp_path: Path) -> None:
    database = Database(url)
    try:
        log = AccessLog(database, service)
        log.write(entry("first"))
        writer = log._writer
        statements = writer.statements
        results: dict[str, int] = {}
        with writer._lock:  # a write under way: the readers below queue behind it
            threads = [
                threading.Thread(target=lambda s=s: results.__setitem__(s, log.write(entry(s))))
                for s in ("a", "b", "c", "d", "e")
            ]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 10
            while len(writer._queue) < len(threads) and time.monotonic() < deadline:
                time.sleep(0.005)
            assert len(writer._queue) == len(threads)
        for thread in threads:
            thread.join(10)
        assert writer.statements == statements + 1  # the five in one statement
        assert sorted(results.values()) == [2, 3, 4, 5, 6]
        by_subject = {e["subject"]: e["position"] for e in log.query(Filters(), 0, 10)}
        assert all(by_subject[s] == p for s, p in results.items())
        verified(log, tmp_path, 6)
    finally:
        database.close()


def test_many_threads_give_one_gap_free_chain(url: str, service: str, tmp_path: Path) -> None:
    database = Database(url)
    try:
        log = AccessLog(database, service)
        positions: list[int] = []
        lock = threading.Lock()

        def reader(n: int) -> None:
            for i in range(15):
                position = log.write(entry(f"t{n}-{i}"))
                with lock:
                    positions.append(position)

        run_together(reader, range(8))
        assert sorted(positions) == list(range(1, 121))
        verified(log, tmp_path, 120)
    finally:
        database.close()


def test_entries_begun_early_and_written_at_once_interleave_into_one_chain(
    url: str, service: str, tmp_path: Path
) -> None:
    """Readers that send their entry early (``begin`` ... ``finish``, with work between) and
    readers that write at once share one writer from many threads and from a second log (a
    second process): every entry gets its own position, each subject's entries keep their
    order, and the chain verifies."""
    one, two = Database(url), Database(url)
    try:
        log, other = AccessLog(one, service), AccessLog(two, service)
        log.write(entry("first"))  # the head is known: begin sends on PostgreSQL
        positions: list[int] = []
        lock = threading.Lock()

        def reader(n: int) -> None:
            for i in range(12):
                if (n + i) % 3 == 0:
                    position = (other if n == 0 else log).write(entry(f"t{n}-{i}"))
                else:
                    pending = log.begin(entry(f"t{n}-{i}"))
                    time.sleep(0.0005 * (i % 3))  # the answer being serialised
                    position = log.finish(pending)
                with lock:
                    positions.append(position)

        run_together(reader, range(6))
        assert sorted(positions) == list(range(2, 74))
        if log.sends:
            assert log.begun == sum(1 for n in range(6) for i in range(12) if (n + i) % 3)
        entries = log.query(Filters(), 0, 100)
        for n in range(6):
            mine = [e["subject"] for e in entries if e["subject"].startswith(f"t{n}-")]
            assert mine == [f"t{n}-{i}" for i in range(12)]
        verified(log, tmp_path, 73)
    finally:
        one.close()
        two.close()


def test_a_writer_behind_another_retries_on_the_new_head(
    url: str, service: str, tmp_path: Path
) -> None:
    """Two logs on the same table, each with its own head in memory, as two processes have."""
    one, two = Database(url), Database(url)
    try:
        first, second = AccessLog(one, service), AccessLog(two, service)
        assert first.write(entry("1")) == 1
        assert second.write(entry("2")) == 2
        assert first.write(entry("3")) == 3  # its head said 1: the insert collided, re-read
        assert first._writer.collisions == 1
        assert second.write(entry("4")) == 4
        assert second._writer.collisions == 1
        verified(first, tmp_path, 4)
    finally:
        one.close()
        two.close()


def _write_many(url: str, service: str, count: int) -> None:
    database = Database(url)
    try:
        log = AccessLog(database, service)
        for i in range(count):
            log.write(entry(f"proc-{i}"))
    finally:
        database.close()


def test_two_processes_give_one_gap_free_chain(url: str, service: str, tmp_path: Path) -> None:
    database = Database(url)
    try:
        log = AccessLog(database, service)  # the table exists before the processes start
        spawn = multiprocessing.get_context("spawn")
        processes = [spawn.Process(target=_write_many, args=(url, service, 60)) for _ in range(2)]
        for process in processes:
            process.start()
        for i in range(30):  # and this process writes at the same time
            log.write(entry(f"main-{i}"))
        for process in processes:
            process.join(120)
            assert process.exitcode == 0
        verified(log, tmp_path, 150)
    finally:
        database.close()


def test_an_entry_that_cannot_be_written_fails_every_reader_queued_with_it(
    url: str, service: str
) -> None:
    database = Database(url)
    try:
        log = AccessLog(database, service)
        log.write(entry("before"))
        writer = log._writer
        failures: list[BaseException] = []

        def reader(subject: str) -> None:
            try:
                log.write(entry(subject))
            except AccessLogUnavailable as error:
                failures.append(error)

        with writer._lock:
            threads = [threading.Thread(target=reader, args=(s,)) for s in ("a", "b", "c")]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 10
            while len(writer._queue) < len(threads) and time.monotonic() < deadline:
                time.sleep(0.005)
            with log.database.transaction() as cur:
                cur.execute(f"DROP TABLE {log.table}")
        for thread in threads:
            thread.join(10)
        assert len(failures) == 3
        with pytest.raises(AccessLogUnavailable):
            log.write(entry("after"))
    finally:
        database.close()


def test_pruning_keeps_the_newest_entry(url: str, service: str, tmp_path: Path) -> None:
    database = Database(url)
    try:
        log = AccessLog(database, service)
        old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        for day in range(3):
            log.write(entry(f"old-{day}", old + dt.timedelta(days=day)))
        assert log.prune(dt.datetime(2030, 1, 1, tzinfo=dt.UTC)) == 2
        assert log.write(entry("new")) == 4
        assert [e["position"] for e in log.query(Filters(), 0, 10)] == [3, 4]
    finally:
        database.close()


def test_the_operation_filter_ignores_case_on_both_databases(url: str, service: str) -> None:
    database = Database(url)
    try:
        log = AccessLog(database, service)
        log.write(entry("case"))
        for given in ("get /x", "GET /X/{PERSON_ID}", "x/{person_id}"):
            found = log.query(Filters(operation=given), 0, 10)
            assert [e["subject"] for e in found] == ["case"], given
        assert log.query(Filters(operation="GET_/x"), 0, 10) == []  # still no wildcard
    finally:
        database.close()
