"""The SQL adapter's SQLite side: atomic transactions and a bounded set of reused connections."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shared.sql import SQLITE_IDLE_CONNECTIONS, Database


@pytest.fixture
def database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with db.transaction() as cur:
        cur.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    return db


def count(db: Database) -> int:
    with db.transaction(write=False) as cur:
        cur.execute("SELECT COUNT(*) FROM t")
        return int(cur.fetchone()[0])


def test_a_failed_transaction_writes_nothing_and_its_connection_stays_usable(
    database: Database,
) -> None:
    with pytest.raises(RuntimeError), database.transaction() as cur:
        cur.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("midway")
    assert count(database) == 0
    with database.transaction() as cur:
        cur.execute("INSERT INTO t VALUES (1)")
    assert count(database) == 1
    database.close()


def test_connections_are_reused_and_at_most_a_few_are_kept_idle(database: Database) -> None:
    """Each short-lived request thread used to leave nothing behind; reuse must not leak either."""
    started = threading.Barrier(SQLITE_IDLE_CONNECTIONS + 3)
    errors: list[BaseException] = []

    def hold_a_transaction(n: int) -> None:
        try:
            with database.transaction(write=False) as cur:
                started.wait(timeout=10)  # all of them are open at once
                cur.execute("SELECT COUNT(*) FROM t")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=hold_a_transaction, args=(n,))
        for n in range(SQLITE_IDLE_CONNECTIONS + 3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert len(database._idle) == SQLITE_IDLE_CONNECTIONS
    idle = list(database._idle)
    with database.transaction() as cur:
        cur.execute("INSERT INTO t VALUES (2)")
    assert set(database._idle) == set(idle)  # the transaction took an idle one and gave it back
    database.close()
    assert database._idle == []


def test_a_closed_database_keeps_no_connection(database: Database) -> None:
    database.close()
    assert count(database) == 0  # still usable: it opens and closes a connection
    assert database._idle == []
