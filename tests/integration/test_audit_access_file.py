"""Where the access log lives on SQLite: a file of its own beside the service's database, so
an append leaves the service's readers their page caches; and a log an older version kept
inside the service's file moves over once, whole, without breaking its chain."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from shared.audit.access import Access, AccessLog, Filters
from shared.audit.verify import Kind
from shared.sql import Database
from tests.support.access_ledger import access_ledger

SERVICE = "tracking"


def entry(subject: str) -> Access:
    at = dt.datetime.now(dt.UTC).isoformat()
    return Access(at, "hr_admin", subject, "GET /x/{person_id}", "/x/1", ("p-1",), 200)


@pytest.fixture
def service_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'tracking.sqlite'}")
    with database.transaction() as cur:
        cur.execute("CREATE TABLE tr_view (id INTEGER PRIMARY KEY, value TEXT)")
    yield database
    database.close()


def old_style(database: Database) -> AccessLog:
    """An access log written as an older version did: inside the service's own file."""
    with mock.patch.object(Database, "beside", lambda self, name: self):
        return AccessLog(database, SERVICE)


def old_log(database: Database, entries: int) -> AccessLog:
    """An older version's log inside the service's file, with ``entries`` entries."""
    before = old_style(database)
    for n in range(entries):
        before.write(entry(f"old-{n}"))
    return before


def verifies(log: AccessLog, tmp_path: Path, expected: int) -> None:
    ledger = access_ledger(log, tmp_path)
    ledger.checkpoint()
    report = ledger.verify()
    assert report.kind is Kind.OK and report.verified_to == expected, report.line()


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_the_log_has_a_file_of_its_own_and_appends_leave_the_service_file_alone(
    service_db: Database, tmp_path: Path
) -> None:
    log = AccessLog(service_db, SERVICE)
    assert log.database.url.endswith("tracking.access-log.sqlite")
    reader = sqlite3.connect(tmp_path / "tracking.sqlite")
    version = reader.execute("PRAGMA data_version").fetchone()[0]
    for n in range(3):
        log.write(entry(f"reader-{n}"))
    # data_version changes for a connection when another commits to its file; the service's
    # readers keep their page caches only while it stays put.
    assert reader.execute("PRAGMA data_version").fetchone()[0] == version
    with service_db.transaction() as cur:
        cur.execute("INSERT INTO tr_view (value) VALUES ('x')")
    assert reader.execute("PRAGMA data_version").fetchone()[0] != version  # the probe works
    reader.close()
    assert f"{SERVICE}_access_log" not in tables(tmp_path / "tracking.sqlite")
    assert f"{SERVICE}_access_log" in tables(tmp_path / "tracking.access-log.sqlite")
    verifies(log, tmp_path, 3)


def test_a_log_kept_inside_the_service_file_moves_over_whole(
    service_db: Database, tmp_path: Path
) -> None:
    before = old_log(service_db, 7)
    pruned = before.prune(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))  # leaves a base
    assert pruned == 6
    before.write(entry("old-last"))
    old_entries = before.query(Filters(), 0, 100)

    log = AccessLog(service_db, SERVICE)
    assert log.query(Filters(), 0, 100) == old_entries
    assert not {f"{SERVICE}_access_log", f"{SERVICE}_access_log_base"} & tables(
        tmp_path / "tracking.sqlite"
    )
    assert log.write(entry("new")) == 9
    verifies(log, tmp_path, 9)
    assert AccessLog(service_db, SERVICE).query(Filters(), 0, 100)[-1]["subject"] == "new"


def test_a_move_cut_short_before_the_old_tables_went_only_drops_them(
    service_db: Database, tmp_path: Path
) -> None:
    old_log(service_db, 4)
    real_transaction = Database.transaction
    calls: list[bool] = []

    def dropping_fails(self: Database, write: bool = True) -> object:
        if self is service_db and write:
            calls.append(True)
            raise OSError("the process died here")
        return real_transaction(self, write=write)

    with (
        mock.patch.object(Database, "transaction", dropping_fails),
        pytest.raises(OSError, match="died"),
    ):
        AccessLog(service_db, SERVICE)
    assert calls and f"{SERVICE}_access_log" in tables(tmp_path / "tracking.sqlite")

    log = AccessLog(service_db, SERVICE)
    assert [e["subject"] for e in log.query(Filters(), 0, 100)] == [f"old-{n}" for n in range(4)]
    assert f"{SERVICE}_access_log" not in tables(tmp_path / "tracking.sqlite")
    verifies(log, tmp_path, 4)


def test_two_different_logs_are_not_merged(service_db: Database, tmp_path: Path) -> None:
    AccessLog(service_db, SERVICE).write(entry("new-file"))
    before = old_style(service_db)
    before.write(entry("old-file"))
    with pytest.raises(RuntimeError, match="by hand"):
        AccessLog(service_db, SERVICE)
    assert f"{SERVICE}_access_log" in tables(tmp_path / "tracking.sqlite")  # nothing dropped
