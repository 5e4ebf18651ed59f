"""Several projectors on one read model: batches commit one at a time, positions only advance."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from services.tracking.readmodels import ReadModels, one_writer_at_a_time, store_cursor
from shared.sql import Database


def test_a_second_projector_batch_waits_for_the_first_to_commit(fresh_postgres_url: str) -> None:
    first, second = Database(fresh_postgres_url), Database(fresh_postgres_url)
    try:
        with first.transaction() as cur:
            one_writer_at_a_time(first, cur)
            with pytest.raises(psycopg.errors.LockNotAvailable), second.transaction() as other:
                other.execute("SET LOCAL lock_timeout = '200ms'")
                one_writer_at_a_time(second, other)
        # Committed: the lock went with the transaction, and the next batch takes it at once.
        with second.transaction() as other:
            other.execute("SET LOCAL lock_timeout = '200ms'")
            one_writer_at_a_time(second, other)
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_a_late_batch_of_a_former_owner_never_rewinds_a_partition(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("fresh_postgres_url")
        if store == "postgres"
        else f"sqlite:///{tmp_path / 'tracking.sqlite'}"
    )
    models = ReadModels(Database(url))
    try:
        models.create()
        with models.database.transaction() as cur:
            store_cursor(cur, ("enrolment", 3), 30, 28, 10)  # the new owner, further on
        with models.database.transaction() as cur:
            store_cursor(cur, ("enrolment", 3), 20, 19, 0)  # the former owner's late batch
        assert models.positions() == {("enrolment", 3): 30}
        with models.database.transaction() as cur:
            store_cursor(cur, ("enrolment", 3), 31, None, 0)  # a record that was no event
            cur.execute("SELECT last_event_position, events_applied FROM tr_positions")
            assert tuple(cur.fetchone()) == (28, 10)
        assert models.positions() == {("enrolment", 3): 31}
    finally:
        models.database.close()
