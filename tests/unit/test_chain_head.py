"""The chained SQLite recorder remembers the link it committed last, and the chain stays whole.

A recorder skips reading the chain's last link when its own thread committed the position just
before the new rows; these tests write the log from two applications on one file, from several
threads, and through a failed save, then recompute the whole chain from the stored rows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from benchmarks.run import new_person
from services.enrolment.application import EnrolmentApplication
from shared.audit.chain import GENESIS, link, row_hash
from shared.settings import Settings


def recomputed_ok(recorder: Any) -> int:
    """Recomputes every link from the stored rows; returns how many positions it checked."""
    previous = GENESIS
    with recorder.datastore.transaction(commit=False) as c:
        c.execute(
            "SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, c.link "
            f"FROM stored_events e LEFT JOIN {recorder.chain_table} c ON c.position = e.rowid "
            "ORDER BY e.rowid"
        )
        rows = c.fetchall()
    for position, oid, version, topic, state, stored_link in rows:
        previous = link(previous, position, row_hash(oid, version, topic, bytes(state)))
        assert stored_link is not None and bytes(stored_link) == previous, position
    return len(rows)


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[tuple[EnrolmentApplication, EnrolmentApplication]]:
    from shared.audit.chain import chained_env

    env = chained_env(Settings(data_dir=tmp_path).eventstore_env("enrolment"))
    tmp_path.mkdir(exist_ok=True)
    first, second = EnrolmentApplication(env), EnrolmentApplication(env)
    yield first, second
    first.close()
    second.close()


def test_two_writers_on_one_file_keep_one_chain(
    apps: tuple[EnrolmentApplication, EnrolmentApplication],
) -> None:
    first, second = apps
    n = 0
    for turn in range(12):  # runs of one, two and three saves from each in turn
        app = first if turn % 2 == 0 else second
        for _ in range(turn % 3 + 1):
            app.save(new_person(n), new_person(n + 1))
            n += 2
    assert recomputed_ok(first.recorder) == n


def test_a_failed_save_leaves_no_remembered_link(
    apps: tuple[EnrolmentApplication, EnrolmentApplication],
) -> None:
    first, second = apps
    first.save(new_person(0))
    recorder: Any = first.recorder
    insert = type(recorder)._insert_events

    def inserted_then_failed(self: Any, c: Any, events: Any, **kwargs: Any) -> Any:
        insert(self, c, events, **kwargs)  # rows and chain rows written, then rolled back
        raise RuntimeError("the transaction failed after the insert")

    with (
        mock.patch.object(type(recorder), "_insert_events", inserted_then_failed),
        pytest.raises(RuntimeError),
    ):
        first.save(new_person(1))
    second.save(new_person(2))  # takes the position the failed save would have had next
    first.save(new_person(3))
    assert recomputed_ok(recorder) == 3


def test_threads_sharing_a_recorder_keep_one_chain(
    apps: tuple[EnrolmentApplication, EnrolmentApplication],
) -> None:
    app = apps[0]
    errors: list[BaseException] = []

    def write(start: int) -> None:
        try:
            for n in range(start, start + 15):
                app.save(new_person(n))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k * 100,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert recomputed_ok(app.recorder) == 60
